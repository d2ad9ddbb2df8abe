# The main window's frame, and what it says about events as they happen:
# banners (notice-), words for screen readers (announce-), the call status (app-call-).
# $bank is always a bank's name, as the bank gave it.

## Frame
app-opening = Opening your secure store…
app-skip-to-content = Skip to content
app-lock-now = Lock now
app-dismiss = Dismiss
app-store-not-open = Strongroom's encrypted store is not open yet.

## Navigation
nav-label = Main
nav-home = Home
nav-chat = Chats
nav-search = Search
nav-link = Link a bank
nav-settings = Settings
# After the number on the Home button, for screen readers.
nav-unread = { $count ->
    [one] unread alert
   *[other] unread alerts
}

## Banners
notice-unlinked = { $bank } is unlinked: access was revoked at the bank and this device's copy erased.
notice-unlinked-not-revoked = { $bank } is unlinked and this device's copy erased, but the bank could not be reached to revoke access. It will expire on its own; you can also remove it in your bank's website.
notice-link-ended = { $bank } ended the link. Its messages and alerts were removed from this device.
notice-link-ended-your-bank = Your bank ended the link. Its messages and alerts were removed from this device.

## Read out by screen readers
# $kind: the kind of alert (kind-* in kinds.ftl); $amount: already formatted, with its currency.
announce-alert = New alert from { $bank }: { $kind }.
announce-alert-amount = New alert from { $bank }: { $kind }, { $amount }.
announce-quarantined = An alert arrived that failed verification. It has been quarantined.
announce-message = New message from { $bank }.
announce-message-your-bank = New message from your bank.
announce-report-received = { $bank } received your report.
announce-report-received-your-bank = Your bank received your report.
announce-answer-me = Thank you, you confirmed it was you.
announce-answer-not-me = { $bank } has been told it wasn't you.
announce-linked = { $bank } is linked.
# $agent: the name of the person calling, as the bank gave it.
announce-call-started = { $bank } is calling you now: { $agent }, verified.
announce-call-started-staff = { $bank } is calling you now: a member of staff, verified.

## Call status: is my bank really calling me?
# $agent: who is calling; $reason: why, in the bank's words; $time: a time of day.
app-call-talking = { $agent }, { $bank }, about { $reason }
app-call-talking-since = { $agent }, { $bank }, about { $reason }, since { $time }
app-call-not-calling = { $bank } is not calling you. If someone says they are, hang up.
app-call-cant-check = Can't reach { $bank }: don't trust anyone who calls claiming to be { $bank }.
app-call-cant-check-since = Can't reach { $bank } since { $time }: don't trust anyone who calls claiming to be { $bank }.

## A bank the window cannot reach ($reason: why, in the shell's words, without a final full stop)
app-offline-retry = Trying again in { $seconds } s.
app-offline-reason-retry = { $reason }. Trying again in { $seconds } s.
app-offline-bank-closed = The bank closed the connection
