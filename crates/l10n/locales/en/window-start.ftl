# The screens before the main window: the lock screen, the first run, and
# what the window says when Strongroom cannot start.

## Lock screen
lock-title = Strongroom is locked
lock-keys-removed = Your keys have been removed from memory.
lock-enter-passphrase = Enter your app passphrase to continue.
lock-press-unlock = Unlock to continue.
lock-passphrase = App passphrase
lock-wrong-passphrase = That passphrase is not right. Try again.
lock-unlock = Unlock
lock-unlocking = Unlocking…

## First run
first-run-title = Welcome to Strongroom
first-run-lead = Secure messages and alerts your bank can prove it sent, with nobody in the middle.
first-run-keychain-title = Keychain check
first-run-keychain-ok = Your system keychain is available and your encrypted store is open.
first-run-data-title = What Strongroom does with your data
# Each fact starts with its main point in bold: $em is the .em text, put where it goes in the sentence.
first-run-fact-local = { $em } Messages and alerts are stored only here.
    .em = Keeps your history encrypted on this device.
first-run-fact-keys = { $em }, never in a plain file.
    .em = Keeps its keys in your system keychain
first-run-fact-bank-only = { $em } There is no Strongroom server and no one in the middle.
    .em = Talks only to your bank.
first-run-fact-password = { $em } You approve each link in your bank's own website.
    .em = Never sees your bank password.
first-run-fact-no-tracking = No analytics, no tracking, no advertising.
first-run-pass-title = App passphrase
first-run-optional = (optional)
first-run-pass-already-set = An app passphrase is already set. You can change it later in Settings.
first-run-pass-label = Passphrase to unlock Strongroom
first-run-show = Show
first-run-hide = Hide
first-run-pass-hint = Leave empty to unlock without one. With a passphrase, Strongroom asks for it after it locks. Choose one you will remember.
first-run-continue = Continue
first-run-saving = Saving…

## Strongroom cannot start
# Titles and steps for each keychain problem. Menu and program names are the
# desktop's own (GNOME, KDE Plasma): use the names those desktops show in your language.
start-keychain-missing-title = No system keychain was found
start-keychain-missing-step-1 = Strongroom keeps its keys in your desktop's keychain (the Secret Service), and there is none running.
start-keychain-missing-step-2 = GNOME and most desktops: install GNOME Keyring (on Debian or Ubuntu: sudo apt install gnome-keyring), then sign out and sign in again.
start-keychain-missing-step-3 = KDE Plasma: install KWallet (sudo apt install kwalletmanager), enable it in System Settings → KDE Wallet, then sign out and sign in again.
start-press-retry = Then press Retry.
start-keychain-locked-title = Your keychain is locked
start-keychain-locked-step-1 = GNOME: open “Passwords and Keys” (Seahorse), select the “Login” keyring and choose Unlock; enter your login password.
start-keychain-locked-step-2 = KDE Plasma: open KWallet Manager and open your wallet with its password.
start-keychain-denied-title = Strongroom was not allowed to use your keychain
start-keychain-denied-step-1 = Your keychain refused access, or the request was cancelled.
start-keychain-denied-step-2 = Press Retry, and when your desktop asks whether Strongroom may use the keychain, allow it.
start-keychain-denied-step-3 = KDE Plasma: in KWallet Manager, check that Strongroom is not on the list of denied applications.
start-keychain-failed-title = Strongroom could not use your keychain
start-follow-advice = Follow the advice below, then press Retry.
start-failed-title = Strongroom could not start
start-failed-step = Follow the advice below, then press Retry. If it keeps happening, restart your computer.
# $code: a stable error code such as keychain_locked; keep it as it is.
start-code = Code: { $code }
start-how-to-fix = How to fix it
start-nothing-lost = Nothing has been lost. Your history stays encrypted on this device, and Strongroom never stores your keys anywhere else.
start-retry = Retry
start-retrying = Checking…
