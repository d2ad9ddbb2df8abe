//! The client core with the real keychain (private gnome-keyring, started by
//! `cargo xtask test`) and a real SQLite file.

use strongroom_client::{DATABASE_FILE, Device, ErrorCode};
use strongroom_store::{Delivery, Direction, NewMessage, SearchHit, StoreError};
use strongroom_vault::{SecretKind, Vault};

fn test_vault() -> Vault {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    Vault::with_service(format!("strongroom-client-test-{nanos:x}"))
}

fn message(conversation: strongroom_store::ConversationId, body: &str, at: i64) -> NewMessage {
    NewMessage {
        conversation,
        direction: Direction::Incoming,
        author: "Bank".into(),
        body: body.into(),
        sent_at: at,
        received_at: Some(at),
        delivery: Delivery::Delivered,
        client_id: None,
        bank_message_id: Some(format!("m{at}")),
    }
}

/// A device in a fresh folder with one linked account, one conversation and
/// one message in it: the starting point of most tests here.
fn device_with_message(
    vault: &Vault,
    body: &str,
) -> (
    tempfile::TempDir,
    Device,
    strongroom_core::AccountId,
    strongroom_store::ConversationId,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut device = Device::open(dir.path(), vault.clone()).unwrap();
    let account = device
        .add_account("https://bank.example", "Everyday", 1)
        .unwrap();
    let conv = device.store().add_conversation(account, "Help", 2).unwrap();
    device
        .store()
        .insert_messages(&[message(conv, body, 3)])
        .unwrap();
    (dir, device, account, conv)
}

#[test]
fn first_run_creates_the_master_key_in_the_keychain_and_history_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let vault = test_vault();
    let mut device = Device::open(dir.path(), vault.clone()).unwrap();
    assert!(
        vault.master_key().unwrap().is_some(),
        "the master key is in the keychain"
    );
    let account = device
        .add_account("https://bank.example", "Everyday", 1)
        .unwrap();
    assert!(vault.get(account, SecretKind::StoreKey).unwrap().is_some());
    let conv = device.store().add_conversation(account, "Help", 2).unwrap();
    device
        .store()
        .insert_messages(&[message(conv, "your new card is on its way", 3)])
        .unwrap();
    drop(device);

    let mut device = Device::open(dir.path(), vault.clone()).unwrap();
    assert!(device.unlock_reports().iter().all(|(_, r)| r.is_ok()));
    assert_eq!(device.store().search("card way", 5).unwrap().len(), 1);
    let page = device.store().latest_messages(conv, 10).unwrap();
    assert_eq!(page.items[0].body, "your new card is on its way");
    device.erase_account(account).unwrap();
}

#[test]
fn unlinking_destroys_the_keys_so_an_old_copy_of_the_file_is_unreadable() {
    let vault = test_vault();
    let (dir, mut device, account, conv) = device_with_message(&vault, "secret balance talk");
    device.store().checkpoint().unwrap();
    let copy_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join(DATABASE_FILE),
        copy_dir.path().join(DATABASE_FILE),
    )
    .unwrap();

    device.erase_account(account).unwrap();
    for kind in SecretKind::ALL {
        assert_eq!(
            vault.get(account, kind).unwrap(),
            None,
            "{kind:?} must be destroyed"
        );
    }
    drop(device);

    // The old copy, opened with the same keychain: the account is there but
    // its key is gone, so nothing of it can be read or searched.
    let mut old = Device::open(copy_dir.path(), vault.clone()).unwrap();
    let report = old
        .unlock_reports()
        .iter()
        .find(|(id, _)| *id == account)
        .expect("the old copy still lists the account");
    assert_eq!(
        report.1.as_ref().unwrap_err().code,
        ErrorCode::AccountKeyMissing
    );
    assert!(matches!(
        old.store().latest_messages(conv, 10),
        Err(StoreError::AccountLocked(_))
    ));
    assert!(old.store().search("secret", 10).unwrap().is_empty());
}

#[test]
fn master_key_rotation_through_the_keychain_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vault = test_vault();
    let mut device = Device::open(dir.path(), vault.clone()).unwrap();
    let account = device
        .add_account("https://bank.example", "Everyday", 1)
        .unwrap();
    let conv = device.store().add_conversation(account, "Help", 2).unwrap();
    let batch: Vec<NewMessage> = (0..1200)
        .map(|i| message(conv, &format!("rotation message {i}"), i))
        .collect();
    device.store().insert_messages(&batch).unwrap();
    device.rotate_master_key().unwrap();
    let stored =
        strongroom_store::MasterKeys::from_bytes(vault.master_key().unwrap().unwrap().expose())
            .unwrap();
    assert_eq!(
        stored.versions().collect::<Vec<_>>(),
        vec![2],
        "the old version is retired"
    );
    drop(device);
    let mut device = Device::open(dir.path(), vault.clone()).unwrap();
    assert_eq!(device.store().versions_in_use().unwrap(), vec![2]);
    assert_eq!(
        device
            .store()
            .latest_messages(conv, 5000)
            .unwrap()
            .items
            .len(),
        1200
    );
    assert_eq!(
        device.store().search("rotation 1199", 5).unwrap(),
        vec![SearchHit::Message(
            device.store().latest_messages(conv, 1).unwrap().items[0].id
        )]
    );
    device.erase_account(account).unwrap();
}

#[test]
fn a_lost_master_key_is_reported_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let vault = test_vault();
    let mut device = Device::open(dir.path(), vault.clone()).unwrap();
    let account = device
        .add_account("https://bank.example", "Everyday", 1)
        .unwrap();
    drop(device);
    let before = std::fs::read(dir.path().join(DATABASE_FILE)).unwrap();
    // The keychain is reset: the same data folder meets an empty keychain.
    let reset = test_vault();
    let err = Device::open(dir.path(), reset.clone()).unwrap_err();
    assert!(
        matches!(err, strongroom_client::ClientError::MasterKeyMissing(_)),
        "got {err:?}"
    );
    assert_eq!(
        strongroom_client::ErrorReport::from(&err).code,
        ErrorCode::MasterKeyMissing
    );
    assert_eq!(reset.master_key().unwrap(), None, "no new key was made");
    assert_eq!(
        std::fs::read(dir.path().join(DATABASE_FILE)).unwrap(),
        before,
        "nothing changed"
    );
    // With the right keychain everything is still there.
    let mut device = Device::open(dir.path(), vault).unwrap();
    assert_eq!(device.store().account_ids().unwrap(), vec![account]);
    device.erase_account(account).unwrap();
}

#[test]
fn an_interrupted_erase_is_finished_by_running_it_again() {
    let vault = test_vault();
    let (dir, device, account, _conv) = device_with_message(&vault, "half erased");
    // The erase stopped right after destroying the store key.
    vault.delete(account, SecretKind::StoreKey).unwrap();
    drop(device);
    let mut device = Device::open(dir.path(), vault.clone()).unwrap();
    let report = &device.unlock_reports()[0];
    assert_eq!(
        report.1.as_ref().unwrap_err().code,
        ErrorCode::AccountKeyMissing
    );
    device.erase_account(account).unwrap();
    assert!(device.store().account_ids().unwrap().is_empty());
}

#[test]
fn the_data_folder_and_its_files_are_the_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let vault = test_vault();
    let (dir, device, account, _) = device_with_message(&vault, "statement ready");
    // A folder made world-readable (as a umask of 022 leaves a new one)
    // is closed again at the next open.
    let data = dir.path();
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o755)).unwrap();
    drop(device);
    let mut device = Device::open(data, vault.clone()).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(data), 0o700, "the data folder");
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(DATABASE_FILE) {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
    device.erase_account(account).unwrap();
}
