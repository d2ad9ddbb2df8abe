# strongroom-cli's text output. Not --json, which stays machine-readable,
# and not --help, which clap writes in English. Bank names, codes, URLs,
# ids and the bank's own words reach these messages as values.

## General
# Joins items of a list: key thumbprints.
cli-list-separator = {", "}
# The program's name starts every line it writes to stderr.
cli-error = strongroom-cli: { $message } ({ $code })
# Follows an error line: the error in the words of the part that failed (in
# English), with what the catalogue leaves out: which file, the system's reason.
cli-error-detail = {"  "}(technical detail: { $detail })
cli-cannot-start = strongroom-cli: cannot start: { $error }
cli-file-error = strongroom-cli: { $path }: { $error }
# The account named when no account is linked at all.
cli-none-linked = (none linked)
cli-several-match = { $name }: several accounts match; use the account id

## Damage to the encrypted history found at unlock (a warning on stderr)
# $findings is a list of the messages below, joined by cli-damage-separator.
cli-damage = warning: account { $account }: { $findings }; the rest of the history is readable
cli-damage-separator = {"; "}
cli-damage-rows = { $rows } damaged row(s) hidden ({ $messages } message(s), { $alerts } alert(s))
cli-damage-conversation = conversation { $conversation }: { $recorded } row(s) recorded, { $found } found, or rows rolled back
# $table is the store's table name (alerts, messages...), not translated.
cli-damage-table = { $table }: { $recorded } row(s) recorded, { $found } found, or rows rolled back
cli-damage-rolled-back = the database file is an older copy (write { $found }, the keychain knows write { $anchored })
cli-damage-head-forged = the history's integrity record was edited
cli-damage-head-missing = the history's integrity record was removed

## link, accounts, unlink
# $scope is the scopes' names as sent (alerts chat), not translated.
cli-link-pending =
    To link { $bank }, open { $url }
    and confirm the code { $code }
    { $bank } will share with this device: { $scope } (alerts, and chat with its staff).
    Waiting for your approval...
cli-linked = Linked { $bank } as account { $account }.
# One line of `accounts`: the account id, the bank's name, its issuer URL.
cli-account = { $account }  { $bank }  { $issuer }
cli-unlinked = Unlinked { $bank }: the bank revoked this device and its data here is erased.
cli-unlinked-not-revoked = Unlinked { $bank }: its data here is erased, but the bank could not be reached to revoke the link; revoke this device in your online banking.

## Alerts
cli-badge-verified = [verified: { $bank }]
cli-badge-quarantined = [QUARANTINED: not verified, not from your bank]
cli-answered-me = (answered: this was me)
cli-answered-not-me = (answered: this wasn't me)
cli-awaiting-answer = (awaiting your answer)
# One alert: $badge (above), $kind (its kind's name), $text (the bank's
# words), $amount (written in the customer's format), $answer (above) and
# $id (what `answer` takes).
cli-alert = { $badge } { $kind } { $text }  id={ $id }
cli-alert-amount = { $badge } { $kind } { $text } { $amount }  id={ $id }
cli-alert-answer = { $badge } { $kind } { $text } { $answer }  id={ $id }
cli-alert-amount-answer = { $badge } { $kind } { $text } { $amount } { $answer }  id={ $id }
cli-answered = Your answer was sent to { $bank } and recorded.

## chat
cli-chat-sent = Sent.
cli-chat-queued = Queued: it will be sent when the bank is reachable (run `watch`).

## watch: one line per live event
cli-watching = Watching { $count } linked account(s). Ctrl-C to stop.
cli-event-chat = [chat] { $author }: { $body }
cli-event-chat-own = [chat] (you, other device) { $author }: { $body }
cli-event-connected = [connected] { $bank }
# $reason is the connection's error, as the system gave it.
cli-event-disconnected = [disconnected] { $reason }; retrying in { $ms } ms
cli-event-bank-closed = the bank closed the stream
cli-event-chat-accepted = [chat] your message reached the bank
cli-event-flags = [pilot features] { $flags }
cli-event-keys-rotated = [keys] the bank rotated its signing keys (version { $version })
cli-event-revoked = [revoked] { $bank } no longer accepts this device

## call-status and report-scam-call
cli-call-talking = [talking to you now] { $agent }, { $bank }, about { $reason }, since { $time }
cli-call-not-calling = [not calling you] { $bank } is not calling you. If someone says they are, hang up.
cli-call-cant-check = [can't check] Can't reach { $bank }: don't trust anyone who calls claiming to be { $bank }.
cli-call-cant-check-since = [can't check] Can't reach { $bank } since { $time }: don't trust anyone who calls claiming to be { $bank }.
# $time is HH:MM (24 hours).
cli-clock = { $time } UTC
# Follows "since" in cli-call-talking when the start is not known.
cli-clock-unknown = an unknown time
# What the bank's agent is calling about ($reason in cli-call-talking).
cli-scam-report = { $bank } received your report. Thank you: it helps them stop the caller.

## export-transcript and verify-transcript
cli-transcript-written = Wrote { $alerts } alerts and { $rotations } key rotation(s) to { $path }
cli-transcript-unreadable = cannot read { $path }: { $error }
cli-transcript-too-large = { $path } is larger than any transcript
cli-transcript-failed = { $count } alerts in the transcript do not verify
# $pinned is one of the three messages after this one; $keys a list of
# cli-transcript-key.
cli-transcript =
    Transcript (format { $format }) of alerts from { $issuer } to { $audience }
    Keys pinned { $pinned }: { $keys }
    Rotation statements: { $rotations } (the chain holds)
    { $verified } of { $alerts } alerts verify against that chain.
cli-transcript-pinned-format-1 = (format 1: whatever keys the file lists, no chain)
cli-transcript-pinned-at-link = at link time
cli-transcript-pinned-at-rotation = at rotation { $version }
cli-transcript-key = { $thumbprint } (kid { $kid })
# $reason is the check the alert failed, as the verifier gave it.
cli-transcript-failure = {"  "}alert { $index } does NOT verify: { $reason }
cli-transcript-proves = What this proves: { $proves }
# What a transcript proves. Never say the alerts are the bank's except in
# cli-proves-bank (the bank's published keys vouched for every alert).
cli-proves-bank = { $verified } of { $alerts } alerts are signed by keys that { $bank } vouches for now: it publishes key(s) { $published } over TLS, and rotation statements signed by its keys connect them to the keys that signed the alerts. As far as that TLS certificate is trusted, these alerts came from { $bank } and were addressed to { $audience }.
# $whose is one of the three messages below, $tie is cli-proves-tie.
cli-proves-checked = { $whose }, addressed to { $audience }. Only { $confirmed } of { $alerts } alerts are signed by keys { $bank } vouches for now. { $tie }
cli-proves-offline = { $whose }, addressed to { $audience } ({ $verified } of { $alerts } verify). { $tie }
cli-proves-whose-format-1 = FORMAT 1, SELF-CONTAINED: the keys come from this same file, so this proves NOTHING about the bank; anyone can make such a file with their own key. These alerts were signed by the keys listed in the file
# $prints is a list of cli-proves-print.
cli-proves-whose-link = These alerts were signed by the keys this device pinned when it linked to { $issuer } (thumbprint { $prints }), or by keys those rotated to through the { $rotations } signed rotation statement(s) in this file
cli-proves-whose-rotation = These alerts were signed by the keys this device had pinned for { $issuer } at rotation { $version } (thumbprint { $prints }; the device did not keep the chain from link time), or by keys those rotated to through the { $rotations } signed rotation statement(s) in this file
cli-proves-print = { $thumbprint } ({ $kid })
# --bank <issuer> is the command's option, not translated.
cli-proves-tie = This does NOT show that those keys belong to the bank: the file names the bank itself. Check with --bank <issuer> (the bank's published keys, online) or compare the thumbprint with one the bank publishes.
