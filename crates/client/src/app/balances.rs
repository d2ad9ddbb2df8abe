//! Each bank's balance and its recent history, kept with the link in
//! memory: read from the store once when the app unlocks, then updated by
//! each alert the app receives. Drawing the home screen reads no alert
//! (before, every live alert made the window re-read up to 500 alerts per
//! account to redraw the balances).

use std::collections::{BTreeMap, HashMap};

use strongroom_core::AccountId;

use super::views::{Balance, BalancePoint};
use crate::AlertView;
use crate::service::Client;

/// How many balance points each bank keeps (the chart's reach), and how
/// many of its latest alerts are read at unlock to find them.
pub const BALANCE_POINTS: usize = 500;

/// One bank's balances, by (issued at, alert id): the id keeps two alerts
/// of the same millisecond apart and makes noting one alert twice (live,
/// and in the read at unlock) harmless.
#[derive(Debug, Default)]
struct Ledger(BTreeMap<(i64, String), (i64, String)>);

/// The balances of every linked bank.
#[derive(Debug, Default)]
pub(super) struct Balances(HashMap<AccountId, Ledger>);

impl Balances {
    /// Keeps the balance `alert` reports, if it is verified and reports one.
    /// A forged alert never moves the balance.
    pub(super) fn note(&mut self, account: AccountId, alert: &AlertView) {
        let (true, Some(minor), Some(currency)) =
            (alert.verified, alert.balance_minor, alert.currency.as_ref())
        else {
            return;
        };
        let ledger = &mut self.0.entry(account).or_default().0;
        ledger.insert(
            (alert.issued_at, alert.id.clone()),
            (minor, currency.clone()),
        );
        while ledger.len() > BALANCE_POINTS {
            ledger.pop_first();
        }
    }

    /// Adds the balances of `other` (read at unlock) to those noted meanwhile.
    pub(super) fn merge(&mut self, other: Balances) {
        for (account, ledger) in other.0 {
            let mine = &mut self.0.entry(account).or_default().0;
            mine.extend(ledger.0);
            while mine.len() > BALANCE_POINTS {
                mine.pop_first();
            }
        }
    }

    /// The bank was unlinked.
    pub(super) fn forget(&mut self, account: AccountId) {
        self.0.remove(&account);
    }

    /// The latest balance and the history, oldest first.
    pub(super) fn view(&self, account: AccountId) -> (Option<Balance>, Vec<BalancePoint>) {
        let Some(ledger) = self.0.get(&account) else {
            return (None, Vec::new());
        };
        let latest = ledger
            .0
            .iter()
            .next_back()
            .map(|((at, _), (minor, currency))| Balance {
                minor: *minor,
                currency: currency.clone(),
                at: *at,
            });
        let history = ledger
            .0
            .iter()
            .map(|((at, _), (minor, _))| BalancePoint {
                at: *at,
                minor: *minor,
            })
            .collect();
        (latest, history)
    }

    /// Every bank's balances from its latest alerts in the store (at
    /// unlock). A bank whose alerts cannot be read has none: the window
    /// shows its error when it reads the feed.
    pub(super) fn read(client: &Client) -> Balances {
        let mut balances = Balances::default();
        for account in client.accounts().unwrap_or_default() {
            for alert in client
                .alerts(account.id, BALANCE_POINTS)
                .unwrap_or_default()
            {
                balances.note(account.id, &alert);
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
    fn an_alert_seen_live_and_read_at_unlock_counts_once_and_history_is_bounded() {
        let a = account(1);
        let mut live = Balances::default();
        live.note(a, &alert("same", 1_000, Some(10), true));
        let mut read = Balances::default();
        for i in 0..(BALANCE_POINTS as i64 + 10) {
            read.note(a, &alert(&format!("r{i}"), i, Some(i), true));
        }
        read.note(a, &alert("same", 1_000, Some(10), true));
        live.merge(read);
        let (latest, history) = live.view(a);
        assert_eq!(history.len(), BALANCE_POINTS);
        assert_eq!(latest.map(|l| l.at), Some(1_000));
        assert_eq!(history.iter().filter(|p| p.at == 1_000).count(), 1);
        live.forget(a);
        assert!(live.view(a).1.is_empty());
    }
}
