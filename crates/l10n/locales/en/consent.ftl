# The bank's verification pages (RFC 8628): the customer signs in with the
# bank password, confirms the code the Strongroom app shows, then allows or
# refuses what the app asks for. $bank is the bank's name; $code the code
# (both written as they are). Plain text: the page sets it apart itself.

## Sign-in page
consent-sign-in-title = { $bank } - link Strongroom
consent-sign-in-heading = { $bank }: link the Strongroom app
consent-sign-in-intro = Sign in with your { $bank } username and password, and enter the code the app shows.
consent-code-label = Code from the app
consent-username = Username
consent-password = Password
consent-sign-in = Sign in

## What can go wrong when signing in
consent-error-too-large = The form is too large.
consent-error-form-expired = This form expired or was already used. Please try again.
consent-error-credentials-missing = Enter your username and password.
consent-error-busy = The bank is busy. Try again in a moment.
consent-error-too-many-sign-ins-seconds =
    Too many failed sign-ins. Wait { $seconds ->
        [one] { $seconds } second
       *[other] { $seconds } seconds
    } and try again.
consent-error-too-many-sign-ins-minutes =
    Too many failed sign-ins. Wait { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    } and try again.
consent-error-wrong-password = The username or password is not right.
consent-error-too-many-codes =
    Too many wrong codes. Wait { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }, then start linking again in the app.
consent-error-code-malformed = That code is not right. Check the code the app shows.
consent-error-code-spent = That code was tried with wrong passwords too often. Start linking again in the app.
consent-error-code-unknown = That code is not right or has expired. Check the code the app shows.

## Consent page
consent-title = { $bank } - allow Strongroom
consent-heading = Allow the Strongroom app to use your { $bank } account?
# The page shows $code set apart, in a fixed-width font.
consent-code = Code { $code }. Only continue if this code is shown in your own Strongroom app.
consent-app-can = The app will be able to:
consent-scope-alerts = Receive alerts signed by the bank: transactions, balance, security events and fraud checks, and send your answers to fraud checks.
consent-scope-chat = Send and receive chat messages with the bank's staff.
consent-app-cannot = It will not see your password, and cannot make payments. You can unlink it at any time.
consent-approve = Approve
consent-deny = Deny

## After Approve or Deny
consent-choose = Choose Approve or Deny.
consent-approved = Access approved
consent-approved-next = You can go back to the Strongroom app; it finishes linking by itself.
consent-denied = Access denied
consent-denied-next = The app was not linked. If you did not start this, tell the bank.
consent-expired = Expired
consent-page-expired = This page expired or was already used.
consent-page-expired-next = Start again from the code in the app.
consent-code-expired = This code has expired or was already used.
consent-code-expired-next = Start again from the app.
consent-error = Error
consent-error-internal = Something went wrong. Try again.
