# Errors: one message per code the app core sends (ErrorCode in
# crates/client/src/error.rs), as error-<code>; every oauth_* code is
# error-oauth. Each says what happened, what to do, and whether anything was
# lost. The variables are the values the code sends with it (ErrorReport's
# values; ErrorCode::value_names lists them): use no others.

## The system keychain

error-keychain_missing = Strongroom keeps your bank credentials only in your system keychain, and none is running. On Linux, install and start a Secret Service provider such as GNOME Keyring (package gnome-keyring) or KeePassXC with Secret Service enabled, then restart Strongroom. Your messages and links are untouched.
error-keychain_locked = Your system keychain is locked. Unlock it (on Linux, open Passwords and Keys and unlock the Login keyring; on macOS, open Keychain Access), then try again. Nothing was lost.
error-keychain_denied = Your system keychain refused Strongroom access. Allow Strongroom when the keychain asks, or check your sandbox or keychain access settings, then try again. Nothing was lost.
error-keychain_entry_too_long = Your system keychain cannot hold an entry as large as Strongroom needs. Please report this to Strongroom support. Nothing was stored elsewhere.
error-keychain_corrupted = Your system keychain gave back different data than Strongroom stored. Check the keychain (on Linux, restart GNOME Keyring), then try again.
error-keychain_failed = Your system keychain reported an error. Log out and in again, then try again; if it goes on, contact Strongroom support. Nothing was lost.
# $seconds: how long Strongroom waited.
error-keychain_timeout = Your system keychain did not answer within { $seconds } seconds. It may be locked and waiting for you to unlock it, or its service may be stuck. Unlock your keyring (on GNOME: Passwords and Keys; on KDE: KWallet), or log out and in again, then try again. Nothing was written.

## The encrypted history on this device

error-store_tampered = Part of your history on this device failed its integrity check: it was damaged or changed outside Strongroom, so it is not shown. The rest of your history is not affected.
error-store_account_locked = This account's history cannot be opened: its key is not loaded. Restart Strongroom; if it goes on, unlink the account and link it again to fetch its history from the bank.
error-store_wrong_key = The key for this account's history does not fit it, so the history cannot be opened. Nothing was changed. Unlink the account and link it again to fetch its history from the bank.
error-store_unknown_account = This account is not linked on this device.
error-store_not_found = This item is no longer in your history.
error-store_missing_key_version = Part of your history is locked with a key your system keychain no longer holds, so it cannot be shown. Nothing was changed. If you restored or reset your keychain, restore Strongroom's entries in it.
error-store_wrong_master_key = Your system keychain holds a different key from the one your history was saved with (the keychain may have been reset or replaced). Strongroom read nothing and changed nothing. Restore the keychain entry "store/master-key" of the service "strongroom", or move Strongroom's data folder away and link your banks again.
error-store_bad_master_key = Strongroom's key in your system keychain is damaged, so your history cannot be opened. Nothing was changed. Restore the keychain entry "store/master-key" of the service "strongroom" from a backup, or contact Strongroom support.
error-store_bad_anchor = A record that Strongroom keeps in your system keychain to protect your history is damaged. Nothing was changed. Contact Strongroom support.
error-store_newer_schema = Your history was saved by a newer version of Strongroom. Install the latest version to open it. Nothing was changed.
error-store_rotation_not_forward = The key change was not made: the new key is not newer than the current one. Nothing was changed, and your history stays readable.
error-store_in_use = Strongroom is already open in another window or process. Close it, then try again.
error-store_io = Strongroom could not use a file in its data folder. Check that the disk is not full and that you may write there, then try again.
error-store_random_failed = Your computer's random number source failed, so nothing was written. Restart Strongroom and try again.
error-store_database = Strongroom could not read or write its database: the disk may be full or the file damaged. Free some disk space and try again; if it goes on, contact Strongroom support.

## Signed data from the bank

error-too_large = Data from your bank was larger than Strongroom accepts, so it was refused. If this goes on, tell your bank.
error-malformed = Data from your bank was not in the expected form, so it was refused. If this goes on, tell your bank.
error-unsupported_algorithm = Data from your bank was signed in a way Strongroom does not accept, so it was refused. If this goes on, tell your bank.
error-forbidden_header = Data from your bank carried a signature Strongroom does not accept, so it was refused. If this goes on, tell your bank.
error-wrong_type = Data from your bank was not of the kind expected here, so it was refused. If this goes on, tell your bank.
error-unknown_key = Data that claims to come from your bank was signed with a key Strongroom does not know for that bank, so it was refused.
error-bad_signature = The signature on data that claims to come from your bank does not match, so it was refused: the data may have been altered.
error-bad_key = Your bank gave a signing key Strongroom cannot use, so its data was refused. If this goes on, tell your bank.
error-unknown_issuer = The data names another bank than the one linked, so it was refused.
error-replayed = This alert was received before; the copy was ignored.
error-wrong_audience = This alert is addressed to another customer, so it was refused.
error-issued_in_future = Data from your bank is dated in the future, so it was refused. Check that your computer's clock is right.
error-too_old = Data from your bank is too old to be trusted, so it was refused. Check that your computer's clock is right.
error-stale_rotation = A change of your bank's signing keys does not follow the keys Strongroom trusts for it, so it was refused.
error-expired = Your bank's signed statement about a call has expired. Check that your computer's clock is right.
error-call_ended = Your bank already ended this call; the statement that it is still open was ignored.
error-broken_key_chain = The chain of your bank's signing keys is broken, so the data signed with them could not be checked.

## The bank and the link

# $path: the data folder.
error-data_folder = Strongroom could not create its data folder { $path }. Check that you may write there and that the disk is not full, then try again.
# $path: the database file.
error-master_key_missing = Your system keychain holds no key for the history Strongroom keeps in { $path }. Strongroom did not touch it. If you restored or reset your keychain, restore its entry "store/master-key" of the service "strongroom"; otherwise move that folder away and link your banks again.
# $count: how many items keep the older key.
error-rotation_incomplete = { $count ->
        [one] One item in your history could not be locked with the new key. Strongroom keeps the older key for it, so nothing was lost.
       *[other] { $count } items in your history could not be locked with the new key. Strongroom keeps the older key for them, so nothing was lost.
    }
error-account_key_missing = Your system keychain holds no key for one of your linked accounts, so its history cannot be read on this device. Unlink the account and link it again to fetch its history from the bank.
# $host: the server that could not be reached, e.g. bank.example.
error-network = Strongroom could not reach { $host }. Check your internet connection, then try again.
error-tls = Strongroom could not set up a secure connection to your bank, so nothing was sent. If this goes on, contact Strongroom support.
error-bank_protocol = Your bank's answer could not be used. Try again later; if it goes on, tell your bank.
# $status: the HTTP status number, e.g. 403.
error-refused = Your bank refused the request (error { $status }). Try again later; if it goes on, contact your bank.
# Every oauth_* code. $error: the code the bank's sign-in service gave, e.g.
# invalid_client (it selects the advice).
error-oauth = { $error ->
        [invalid_client] Your bank's sign-in service does not let the Strongroom app link this way. Your bank must register the app for the device grant with DPoP-bound tokens; please tell your bank.
        [unauthorized_client] Your bank's sign-in service does not let the Strongroom app link this way. Your bank must register the app for the device grant with DPoP-bound tokens; please tell your bank.
        [invalid_scope] Your bank's sign-in service does not offer what Strongroom asks for (alerts and chat). Your bank must enable them for the app; please tell your bank.
        [invalid_target] Your bank's sign-in service does not issue access for your bank's Strongroom server. Your bank must register that server; please tell your bank.
        [invalid_dpop_proof] Your bank's sign-in service did not accept this device's proof of its key. Check that your computer's clock is right, then try again.
        [use_dpop_nonce] Your bank's sign-in service did not accept this device's proof of its key. Check that your computer's clock is right, then try again.
        [invalid_grant] Your bank no longer accepts this link. Link the account again.
        [access_denied] The link was refused at your bank. Start again to retry.
        [expired_token] The link code expired before it was approved. Start linking again.
        [temporarily_unavailable] Your bank's sign-in service is not available now. Try again in a few minutes.
        [server_error] Your bank's sign-in service is not available now. Try again in a few minutes.
       *[other] Your bank's sign-in service reported an error ({ $error }). If this goes on, tell your bank, quoting this code.
    }
error-link_expired = The link code expired before it was approved. Start linking again.
error-link_denied = The link was denied at your bank. Nothing was linked.
error-link_revoked = Your bank no longer accepts this device's link. Link the account again.
error-no_refresh_token = Your bank's sign-in service does not let Strongroom stay linked: the link would end within minutes, so it was not made. Your bank must allow refresh tokens (the offline_access scope) for the Strongroom app; please tell your bank.
error-not_linked = This account is not linked on this device.
error-unknown_alert = This fraud check is no longer on this account.
# $answer: the answer the bank has, given on another device: me or not_me.
error-already_answered = { $answer ->
    [me] This check was already confirmed from another of your devices.
   *[not_me] This check was already reported as fraud from another of your devices. The report stays with the bank: if it was a mistake, contact the bank.
}
# $agent: the bank's agent, as the bank signed the name.
error-call_verified = { $agent } from your bank is calling you now, and Strongroom verified it: this is not a scam call.
error-bad_transcript = This file is not a usable Strongroom transcript, or its parts contradict each other.
# $issuer: the bank's address.
error-not_vouched_by_bank = { $issuer } does not vouch for this transcript: not all of it is signed with keys that bank stands behind. Do not rely on it as a record from that bank.
# $path: the file that could not be written.
error-export = Strongroom could not write { $path }. Nothing was overwritten. Check that you may write there and that the disk is not full, then try again.

## The app

error-locked = Strongroom is locked. Unlock it, then try again.
error-not_ready = Strongroom is still starting. Try again in a moment.
error-wrong_passphrase = That passphrase is not right. Try again.
# $minimum: the fewest characters a passphrase may have.
error-weak_passphrase = Use at least { $minimum } characters for the passphrase.
error-bad_answer = Strongroom did not understand that answer. Choose one of the answers shown.
error-link_cancelled = The link was cancelled. Nothing was linked.
error-settings = Your settings could not be saved. Check that the disk is not full, then try again.
error-random = Your computer's random number source failed, so nothing was done. Restart Strongroom and try again.

## Updates ($current: the version running now)

error-update_unreachable = The update server could not be reached or gave no valid answer. Nothing was installed; Strongroom { $current } keeps running.
error-update_insecure = The update server must be reached over https. Nothing was installed; Strongroom { $current } keeps running.
error-update_server = The update server's address set in STRONGROOM_UPDATE_URL is not valid. Nothing was installed; Strongroom { $current } keeps running.
error-update_signature = The update was refused: its signature does not match Strongroom's release key, so it may have been altered or may not come from us. Nothing was installed; Strongroom { $current } keeps running.
# $announced: the version the server offered; $signed: the version the package is signed as.
error-update_downgrade = The update offered as { $announced } was refused: the package is signed as version { $signed }, so the update server offered an older release as a newer one. Nothing was installed; Strongroom { $current } keeps running.
error-update_format = The update is not a package this installation can use. Nothing was installed; Strongroom { $current } keeps running.
error-update_not_authorised = Installing the update needs an administrator's permission, which was not given. Nothing was installed; Strongroom { $current } keeps running.
# $outcome: "unchanged" (the running version is untouched) or "unknown" (the
# installer stopped part of the way).
error-update_failed = { $outcome ->
        [unknown] The installer stopped before it finished. Check which version of Strongroom is installed before you restart it.
       *[unchanged] The update failed. Nothing was installed; Strongroom { $current } keeps running.
    }
error-update_none = No update is waiting. Check for updates first.

## The window's own codes (ui/src/ipc/error.ts)

error-no_shell = Strongroom's window could not reach the app core. Please restart Strongroom.
error-unknown = Something went wrong. Please try again.
