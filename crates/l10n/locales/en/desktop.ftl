# The desktop shell: notifications and the tray menu.

## Notifications
notify-quarantined = An alert failed verification and was quarantined.
notify-new-activity = New activity
# A verified alert with an amount, when notifications may show amounts.
notify-alert-amount = { $kind }: { $amount }
notify-alert-amount-merchant = { $kind }: { $amount } at { $merchant }
notify-call-title = { $bank } is calling you
notify-call-body = { $agent }, about { $reason }. Verified by Strongroom.
notify-call-hidden = Your bank is calling you
notify-call-bank = { $bank } is calling you. Verified by Strongroom.

# The button on a notification that opens the alert.
notify-open = Open

## Tray
tray-open = Open Strongroom
tray-lock = Lock now
tray-quit = Quit Strongroom
tray-unread = Strongroom: { $count } unread
tray-checks = { $count ->
    [one] { $count } fraud check to answer
   *[other] { $count } fraud checks to answer
}
tray-call-talking = { $bank }: talking to you now, { $agent }
tray-call-verified = verified
tray-call-not-calling = { $bank }: not calling you
tray-call-cant-check = { $bank }: can't check who calls
