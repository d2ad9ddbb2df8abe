//! One real customer's device for the benchmarks that measure up to the
//! device's store (`cargo xtask bench delivery` and `bench call-status`):
//! the client core with its encrypted store and the real keychain, linked
//! to a gateway as `alice` through the device grant, its delivery stream
//! running and connected.

use strongroom_client::{Client, ClientEvent};
use strongroom_core::AccountId;

use crate::support;

/// A linked device whose stream is open. Call [`OnlineDevice::close`] when
/// done: it stops the stream and unlinks, so the gateway forgets it.
pub struct OnlineDevice {
    /// The client core.
    pub client: Client,
    /// Alice's account on this device.
    pub account: AccountId,
    runner: tokio::task::JoinHandle<()>,
    // Last, so it is dropped after the client: its drop clears the
    // keychain entries the client used.
    _device: support::TestDevice,
}

impl OnlineDevice {
    /// Links a fresh device (keychain service named after `name`) as
    /// `alice` and waits, up to 30 s, until its stream is connected. Also
    /// returns the client's events, subscribed before the stream started
    /// (apart from the device, so a task of the benchmark can own them).
    pub async fn start(
        gateway: &support::Gateway,
        name: &str,
    ) -> (OnlineDevice, tokio::sync::broadcast::Receiver<ClientEvent>) {
        let device = support::TestDevice::new(name);
        let client = device.client(gateway);
        let account = support::link(&client, gateway, "alice").await;
        let mut events = client.subscribe();
        let runner = tokio::spawn({
            let client = client.clone();
            async move { client.run_account(account).await }
        });
        support::wait_for(&mut events, 30, |e| {
            matches!(e, ClientEvent::Connected { .. }).then_some(())
        })
        .await;
        let online = OnlineDevice {
            client,
            account,
            runner,
            _device: device,
        };
        (online, events)
    }

    /// Stops the stream and unlinks the device (best effort: a benchmark's
    /// figures do not depend on it).
    pub async fn close(self) {
        self.runner.abort();
        let _ = self.client.unlink(self.account).await;
    }
}
