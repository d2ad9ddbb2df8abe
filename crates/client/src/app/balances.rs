//! Each bank's balance and its recent history, kept with the link in
//! memory: read from the store once when the app unlocks, then updated by
//! each alert the app receives. Drawing the home screen reads no alert
//! (before, every live alert made the window re-read up to 500 alerts per
//! account to redraw the balances).

use std::collections::{BTreeMap, HashMap, HashSet};

use strongroom_core::AccountId;

use super::views::{Balance, BalancePoint};
use crate::AlertView;
use crate::service::Client;

/// How many balance points each bank keeps (the chart's reach), and how
/// many of its latest alerts are read at unlock to find them.
pub const BALANCE_POINTS: usize = 500;

/// Where live alerts' arrival numbers start: after every alert read from
/// the store at unlock, which arrived before them.
const LIVE_FROM: u64 = 1 << 40;

/// One bank's balances, by (issued at, arrival): alerts are stamped to the
/// second, so two of the same second are ordered as they arrived, as the
/// window orders them. Each alert counts once, by id (it may be noted live
/// and also read at unlock).
#[derive(Debug, Default)]
struct Ledger {
    points: BTreeMap<(i64, u64), (i64, String, String)>,
    ids: HashSet<String>,
}

impl Ledger {
    fn insert(&mut self, key: (i64, u64), minor: i64, currency: String, id: String) {
        if !self.ids.insert(id.clone()) {
            return;
        }
        self.points.insert(key, (minor, currency, id));
        while self.points.len() > BALANCE_POINTS {
            if let Some((_, (_, _, gone))) = self.points.pop_first() {
                self.ids.remove(&gone);
            }
        }
    }
}

/// The balances of every linked bank.
#[derive(Debug, Default)]
pub(super) struct Balances {
    banks: HashMap<AccountId, Ledger>,
    /// The next live alert's arrival number.
    next_live: u64,
}

impl Balances {
    /// Keeps the balance an alert that arrived live reports, if it is
    /// verified and reports one. A forged alert never moves the balance.
    pub(super) fn note(&mut self, account: AccountId, alert: &AlertView) {
        let seq = LIVE_FROM + self.next_live;
        self.next_live += 1;
        self.note_as(account, alert, seq);
    }

    /// Keeps `alert`'s balance with arrival number `seq`.
    fn note_as(&mut self, account: AccountId, alert: &AlertView, seq: u64) {
        let (true, Some(minor), Some(currency)) =
            (alert.verified, alert.balance_minor, alert.currency.as_ref())
        else {
            return;
        };
        self.banks.entry(account).or_default().insert(
            (alert.issued_at, seq),
            minor,
            currency.clone(),
            alert.id.clone(),
        );
    }

    /// Adds the balances of `other` (read at unlock) to those noted meanwhile.
    pub(super) fn merge(&mut self, other: Balances) {
        for (account, ledger) in other.banks {
            let mine = self.banks.entry(account).or_default();
            for (key, (minor, currency, id)) in ledger.points {
                mine.insert(key, minor, currency, id);
            }
        }
    }

    /// The bank was unlinked.
    pub(super) fn forget(&mut self, account: AccountId) {
        self.banks.remove(&account);
    }

    /// The latest balance and the history, oldest first.
    pub(super) fn view(&self, account: AccountId) -> (Option<Balance>, Vec<BalancePoint>) {
        let Some(ledger) = self.banks.get(&account) else {
            return (None, Vec::new());
        };
        let latest = ledger
            .points
            .iter()
            .next_back()
            .map(|((at, _), (minor, currency, _))| Balance {
                minor: *minor,
                currency: currency.clone(),
                at: *at,
            });
        let history = ledger
            .points
            .iter()
            .map(|((at, _), (minor, _, _))| BalancePoint {
                at: *at,
                minor: *minor,
            })
            .collect();
        (latest, history)
    }

    /// Every bank's balances from its latest alerts in the store (at
    /// unlock, or again after live events were missed). A bank whose alerts
    /// cannot be read has none: the window shows its error when it reads
    /// the feed.
    pub(super) fn read(client: &Client) -> Balances {
        let mut balances = Balances::default();
        for account in client.accounts().unwrap_or_default() {
            // Newest first from the store: numbered oldest first, so that
            // alerts of the same second keep the order they arrived in.
            let alerts = client
                .alerts(account.id, BALANCE_POINTS)
                .unwrap_or_default();
            for (seq, alert) in alerts.iter().rev().enumerate() {
                balances.note_as(account.id, alert, seq as u64);
            }
        }
        balances
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_store::Severity;

    fn alert(id: &str, at: i64, balance: Option<i64>, verified: bool) -> AlertView {
        AlertView {
            id: id.into(),
            kind: "purchase".into(),
            severity: Severity::Info,
            text: String::new(),
            amount_minor: Some(100),
            currency: Some("EUR".into()),
            merchant: None,
            verified,
            verification: String::new(),
            issued_at: at,
            answer: None,
            answered_at: None,
            balance_minor: balance,
        }
    }

    fn account(n: i64) -> AccountId {
        AccountId::from_stored(n).expect("a positive id")
    }

    #[test]
    fn the_latest_verified_balance_wins_and_history_is_oldest_first() {
        let mut b = Balances::default();
        let a = account(1);
        b.note(a, &alert("x2", 2_000, Some(900), true));
        b.note(a, &alert("x1", 1_000, Some(1_000), true));
        // An alert out of order, one with no balance, a forged one.
        b.note(a, &alert("x0", 500, Some(1_200), true));
        b.note(a, &alert("x3", 3_000, None, true));
        b.note(a, &alert("f", 4_000, Some(1), false));
        let (latest, history) = b.view(a);
        let latest = latest.expect("a balance");
        assert_eq!(
            (latest.minor, latest.at, latest.currency.as_str()),
            (900, 2_000, "EUR")
        );
        let points: Vec<(i64, i64)> = history.iter().map(|p| (p.at, p.minor)).collect();
        assert_eq!(points, [(500, 1_200), (1_000, 1_000), (2_000, 900)]);
        assert_eq!(b.view(account(2)).0.map(|x| x.minor), None, "per bank");
    }

    #[test]
    fn alerts_of_the_same_second_count_in_the_order_they_arrived() {
        let mut b = Balances::default();
        let a = account(1);
        // Stamped to the second: the second alert of that second is the
        // balance now, whatever its (random) id.
        b.note(a, &alert("zzz", 7_000, Some(100), true));
        b.note(a, &alert("aaa", 7_000, Some(50), true));
        assert_eq!(b.view(a).0.map(|x| x.minor), Some(50));
        let points: Vec<i64> = b.view(a).1.iter().map(|p| p.minor).collect();
        assert_eq!(points, [100, 50]);
    }

    #[test]
    fn an_alert_seen_live_and_read_at_unlock_counts_once_and_history_is_bounded() {
        let a = account(1);
        let mut live = Balances::default();
        live.note(a, &alert("same", 1_000, Some(10), true));
        let mut read = Balances::default();
        for i in 0..(BALANCE_POINTS as i64 + 10) {
            read.note_as(a, &alert(&format!("r{i}"), i, Some(i), true), i as u64);
        }
        read.note_as(a, &alert("same", 1_000, Some(10), true), 9_999);
        live.merge(read);
        let (latest, history) = live.view(a);
        assert_eq!(history.len(), BALANCE_POINTS);
        assert_eq!(latest.map(|l| l.at), Some(1_000));
        assert_eq!(history.iter().filter(|p| p.at == 1_000).count(), 1);
        live.forget(a);
        assert!(live.view(a).1.is_empty());
    }
}
