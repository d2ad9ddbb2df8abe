# The home screen: the linked accounts, the alert feed, whether each bank is
# calling, and the warning when the history on this device was damaged.
# $bank is always a bank's name, as the bank gave it.

## Home
home-title = Home
# A heading for screen readers over the account cards.
home-accounts-title = Linked accounts
home-empty-title = No bank linked yet
home-empty-body = Link your bank to receive alerts it can prove it sent, and to chat with its staff.
home-link = Link a bank
home-alerts-title = Alerts
# A badge after the "Alerts" heading: fraud checks not answered yet.
home-pending = { $count } awaiting your answer
# Label of the bank filter over the feed, followed by a list of banks.
home-filter = Show
home-filter-all = All banks
home-no-alerts = No alerts yet. New alerts from your bank appear here as they arrive.
# $count: how many older alerts are not shown yet.
home-more = Show older alerts ({ $count } more)

## One linked account (a card on Home)
account-connected = Connected
account-offline = Offline
# $when: a time today, or a date and time.
account-balance-at = Balance at { $when }
account-no-balance = No balance yet
# Read out for the balance chart: $from and $to are amounts, $fromDate and $toDate dates with times.
sparkline-balance = Balance from { $from } on { $fromDate } to { $to } on { $toDate }
# Shown in bold, followed by account-damaged.
account-damaged-label = Warning:
account-damaged = part of this bank's history on this device is damaged. See the warning above.
account-not-connected = Not connected to the bank right now.
# Follows why the bank is offline (account-not-connected or a reason from the connection).
account-offline-hint = New alerts arrive when it reconnects; messages you send wait on this device until then.
account-chat = Chat with { $bank }
# For screen readers, after the number of unread alerts on the chat button (the number comes first).
account-unread = { $count ->
    [one] unread alert
   *[other] unread alerts
}

## One alert in the feed
alert-verified-by = Verified by { $bank }
# Tooltip of the badge: $key names the bank's signing key.
alert-signed-with = Signed with key { $key }
alert-severity-critical = Urgent
alert-severity-warning = Important
alert-answer-failed = Your answer could not be sent. Try again.

## A fraud check: the bank asks whether the customer made a transaction
alert-fraud-question = Was this you?
alert-fraud-me = This was me
alert-fraud-not-me = This wasn't me
alert-fraud-answered-me = You confirmed this was you. Thank you.
alert-fraud-answered-not-me = You told { $bank } this wasn't you. Your answer went to the bank from this device; watch your chat with them for next steps.

## A quarantined alert: it failed verification, so it may come from anyone
alert-quarantine-label = Quarantined alert that failed verification
alert-quarantine-warning = This alert failed verification and did not come from your bank. Do not act on it.
alert-quarantine-show = Show details
alert-quarantine-hide = Hide
# $when: a time today, or a date and time.
alert-quarantine-received = Received { $when }.
# Followed by the technical reason, untranslated.
alert-quarantine-reason = Reason:
alert-quarantine-content = Unverified content, shown exactly as received:

## Whether the bank is calling the customer, as this device verified it
call-talking-now = Talking to you now
call-not-calling = Not calling you
call-cant-check = Can't check
# $time: a time of day.
call-report-received = { $bank } received your report at { $time }. Thank you: it helps them stop the caller.
call-report-open = Report a scam call
call-report-number = The number that called you (optional)
call-report-note = What did the caller say? (optional)
# $max: the limit in bytes (1024).
call-report-too-long = The note is too long: at most { $max } bytes.
call-report-sending = Sending…
call-report-send = Send to { $bank }
call-report-cancel = Cancel

## Damage the store's integrity check found at unlock
# The banner's heading, in bold: $title is damage-title or damage-title-unknown.
damage-warning = Warning: { $title }
damage-title = Part of { $bank }'s history on this device is damaged
damage-title-unknown = Part of a bank's history on this device is damaged
damage-details-summary = Details for your bank
# Stands in for $bank below when the bank is not known yet.
damage-unknown-bank = one of your banks
# $history in the sentences below is one of these two.
damage-history = { $bank }'s history
damage-history-unknown = the history of one of your banks
damage-hidden-messages = { $count ->
    [one] { $count } damaged message in your chat with { $bank } was hidden.
   *[other] { $count } damaged messages in your chat with { $bank } were hidden.
}
damage-hidden-alerts = { $count ->
    [one] { $count } damaged alert in { $history } was hidden.
   *[other] { $count } damaged alerts in { $history } were hidden.
}
damage-hidden-other = { $count ->
    [one] { $count } other damaged record in { $history } was hidden.
   *[other] { $count } other damaged records in { $history } were hidden.
}
# $counts in damage-scope-fewer and damage-scope-more: how many rows were saved, how many are there now.
damage-scope-counts = Strongroom last saved { $recorded }, and { $found ->
    [one] { $found } is
   *[other] { $found } are
} there now
# Rows deleted, added or put back in one place. $table: messages, alerts,
# outbox (messages waiting to be sent), or other records of the bank link.
damage-scope-fewer = { $table ->
    [messages] Messages were deleted or rolled back in your chat with { $bank } ({ $counts }).
    [alerts] Alerts were deleted or rolled back in { $history } ({ $counts }).
    [outbox] Messages waiting to be sent were deleted or rolled back in your chat with { $bank } ({ $counts }).
   *[other] Records of your link were deleted or rolled back in { $history } ({ $counts }).
}
damage-scope-more = { $table ->
    [messages] Messages were added or rolled back in your chat with { $bank } outside the app ({ $counts }).
    [alerts] Alerts were added or rolled back in { $history } outside the app ({ $counts }).
    [outbox] Messages waiting to be sent were added or rolled back in your chat with { $bank } outside the app ({ $counts }).
   *[other] Records of your link were added or rolled back in { $history } outside the app ({ $counts }).
}
damage-scope-older = { $table ->
    [messages] Messages in your chat with { $bank } were put back to an older version.
    [alerts] Alerts in { $history } were put back to an older version.
    [outbox] Messages waiting to be sent in your chat with { $bank } were put back to an older version.
   *[other] Records of your link in { $history } were put back to an older version.
}
# After a sentence about messages waiting to be sent.
damage-scope-outbox-hint = Check your chat and send again anything that is missing.
damage-alarm-head-forged = The record Strongroom keeps to check { $history } was edited outside the app, so deleted messages or alerts may not all be noticed.
damage-alarm-head-missing = The record Strongroom keeps to check { $history } was removed from the file, so deleted messages or alerts may not all be noticed.
damage-alarm-rolled-back = This device's history file for { $bank } is an older copy than the one Strongroom last used: messages and alerts that arrived after that copy was made may be missing.
damage-found = Strongroom found damage in { $history }.
damage-advice = Everything else in your history is still readable. Strongroom did not delete anything: the history file on this computer was changed outside the app, for example by restoring a backup, a disk error, or someone with access to this computer. If you did not expect this, contact { $bank } and mention this warning.
damage-advice-unknown = Everything else in your history is still readable. Strongroom did not delete anything: the history file on this computer was changed outside the app, for example by restoring a backup, a disk error, or someone with access to this computer. If you did not expect this, contact your bank and mention this warning.
