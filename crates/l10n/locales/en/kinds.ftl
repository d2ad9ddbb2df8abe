# What each alert kind is called (the core's AlertKind names), without any
# amount or merchant: the window's feed, hidden-amount notifications, the CLI.
kind-purchase = Card purchase
kind-card_not_present = Online or phone purchase
kind-foreign_transaction = Transaction abroad
kind-declined = Declined transaction
kind-balance_low = Low balance
kind-deposit_received = Money in
kind-payment_due = Payment due
kind-new_device_sign_in = New device signed in
kind-security_detail_changed = Security details changed
kind-fraud_check = Please confirm a transaction
kind-custom = Message from your bank

# Why the bank is calling (the core's CallReason names), read after "about":
# the window, notifications and the CLI.
call-reason-suspicious_payment = a suspicious payment
call-reason-card = your card
call-reason-application = your application
call-reason-identity_check = checking your identity
call-reason-requested_callback = the call you asked for
