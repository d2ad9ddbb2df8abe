# The window's Settings screen.
settings-title = Settings
# Read out by screen readers after a setting was saved.
settings-saved = Saved

## Language
settings-language-title = Language
settings-language-label = Language of the app
settings-language-system = Use the system's language
# Each language's name in itself: the same in every catalogue.
settings-language-en = English
settings-language-de = Deutsch
settings-language-fr = Français

## Notifications
settings-notifications-title = Notifications
settings-privacy-legend = What desktop notifications show
settings-privacy-full = Show everything
    .hint = Bank, amount, merchant and text.
settings-privacy-hide-amounts = Hide amounts
    .hint = Bank and kind of alert, no amounts or merchants.
# "New activity" is what such a notification says (notify-new-activity in desktop.ftl).
settings-privacy-nothing = Show nothing
    .hint = Only “New activity” from Strongroom.

## Lock
settings-lock-title = Lock
settings-auto-lock-label = Lock automatically after (minutes, 0 = never)
settings-auto-lock-invalid = Auto-lock must be between 0 (never) and 1440 minutes.
settings-lock-now = Lock now

## App passphrase
settings-pass-title = App passphrase
settings-pass-is-set = A passphrase is set: Strongroom asks for it when unlocking.
settings-pass-not-set = No passphrase is set: anyone using your desktop session can unlock Strongroom.
settings-pass-current = Current passphrase
settings-pass-new = New passphrase
settings-pass-confirm = New passphrase again
settings-pass-change = Change passphrase
settings-pass-set = Set passphrase
settings-pass-remove = Remove passphrase
settings-pass-empty = Enter a new passphrase.
settings-pass-mismatch = The two new passphrases do not match.
settings-pass-removed = Passphrase removed.
settings-pass-saved = Passphrase saved.
settings-pass-wrong = Your current passphrase is not right.

## Linked banks
settings-banks-title = Linked banks
settings-banks-none = No bank is linked.
# $date: when the bank was linked, already formatted.
settings-bank-linked = linked { $date }
settings-unlink = Unlink…

## Unlink dialog ($bank: the bank's name)
settings-unlink-title = Unlink { $bank }?
settings-unlink-body = This revokes Strongroom's access at { $bank } and erases this device's copy of your messages and alerts with them. It cannot be undone; you can link again later.
settings-unlink-cancel = Cancel
settings-unlink-confirm = Unlink and erase
settings-unlink-busy = Unlinking…

## Export
settings-export-title = Export signed alerts
settings-export-intro = Saves every alert your bank signed, with the bank's pinned keys, as a file in your Downloads folder.
# $command is a command line, shown as code: keep it as it is.
settings-export-check = Anyone can check it offline with { $command }.
settings-export-account = Bank to export
settings-export-start = Export transcript
settings-export-busy = Exporting…
# $path: the file's path, shown as code.
settings-export-saved-to = Saved to { $path }

## Updates ($version: a version number such as 0.2.0)
settings-updates-title = Updates
settings-updates-intro = Strongroom installs an update only if it is signed with Strongroom's release key. It looks for one only when you ask.
settings-update-offer = Version { $version } is available (you have { $current }).
settings-update-latest = You have the latest version ({ $version }).
settings-update-installed = Version { $version } is installed. Restart Strongroom to use it.
settings-update-install = Install { $version }
settings-update-restart = Restart now
settings-update-check = Check for updates

## Privacy ledger
settings-ledger-title = Privacy ledger
settings-ledger-intro = Everything Strongroom has shared, with which bank, and when.
settings-ledger-empty = Nothing has been shared.
settings-ledger-when = When
settings-ledger-bank = Bank
settings-ledger-what = What was shared

# The privacy ledger's "What" column.
settings-ledger-linked = Linked this device: its public key, and consent to alerts and chat.
settings-ledger-fraud_answer = { $answer ->
    [me] Your answer to a fraud check: this was me.
   *[not_me] Your answer to a fraud check: this wasn't me.
}
settings-ledger-chat_message = { $characters ->
    [one] A chat message ({ $characters } character).
   *[other] A chat message ({ $characters } characters).
}
