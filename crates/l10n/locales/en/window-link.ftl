# Linking a bank: the customer enters the bank's address, reads what will be
# shared, and approves with a code on the bank's own website.
# $bank is the bank's name.

## Entering the bank's address
link-title = Link a bank
link-intro = Linking is opt-in and you can undo it at any time in Settings. You will approve it in your bank's own website; Strongroom never sees your bank password.
link-address-label = Your bank's address
link-address-hint = Your bank gives you this address. It starts with https://
link-address-empty = Enter your bank's address.
# Keep the example address as it is.
link-address-not-url = That does not look like a web address. Example: https://bank.example
link-address-not-https = Your bank's address must start with https://
link-address-credentials = The address must not contain a user name or password.
link-contacting = Contacting your bank…
link-continue = Continue
# Between "Continue" and "Use the demo bank".
link-or = or
link-use-demo = Use the demo bank
# With several demo banks, each button names its address ($host, e.g. 127.0.0.1:8444).
link-use-demo-at = Use the demo bank at { $host }
link-declined = The link was declined at { $bank }. Nothing was shared. You can try again.
link-expired = The code expired before it was approved. Nothing was shared. Start again to get a new code.

## Consent
link-consent-title = Link { $bank }?
# Follows the bank's name and web address, shown in bold before it; then
# comes the list of what is shared.
link-consent-asks = asks to link with Strongroom on this device. If you accept, this is exactly what will be shared:
link-consent-nothing-else = Nothing else is shared. You can unlink at any time in Settings.
link-accept = Accept
link-cancel = Cancel

## Approving at the bank
link-approve-title = Approve in { $bank }
link-step-open = Open your bank's website in your browser at this address:
link-step-code = Sign in as you always do, and enter this code when asked:
link-step-check = Check that the code on the bank's page matches, then approve.
link-copy = Copy
link-copied-address = Address copied
link-copied-code = Code copied
link-copy-unavailable = Copying is not available: select the text and copy it.
# Read out by screen readers; $code is the code with a space between characters.
link-code-label = Code: { $code }
# $remaining is minutes and seconds, such as 9:58.
link-waiting = Waiting for your approval… the code expires in { $remaining }.

## Receipt
link-linked-title = { $bank } is linked
link-receipt-title = Consent receipt
link-receipt-bank = Bank
# When the bank was linked; a date and time follow.
link-receipt-linked = Linked
link-receipt-shared = Shared with the bank
# Settings and Privacy ledger are the names of the Settings screen and its section.
link-receipt-kept = This receipt is also kept in Settings → Privacy ledger.
link-done = Done

# What a link shares, listed on the consent screen and the receipt ($bank: the bank's verified name).
link-share-device_key = { $bank } learns that you use Strongroom on this device, and this device's public key.
link-share-alerts = { $bank } can send this device alerts about your accounts (scope: alerts).
link-share-chat = You and { $bank }'s staff can chat; { $bank } keeps what you send (scope: chat).
link-share-fraud_answers = Your answers to fraud checks go to { $bank }, bound to this device.
link-share-nothing_else = Nothing else: no contacts, no location, no other banks, no analytics.
