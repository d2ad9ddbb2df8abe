//! The tray icon: its menu (the fraud checks waiting for an answer, one
//! call status line per linked bank, then Open, Lock and Quit) and its
//! unread count.
//!
//! The call status lines are disabled menu items: they are there to be read
//! ("Demo Bank: talking to you now, Hawa Lind"), not clicked. The menu is
//! built again only when a line changes, so an open menu does not flicker.

use std::sync::Arc;
use std::time::Duration;
use strongroom_client::app::{AppCore, CallState, CallStatusView, LiveEvent};
use strongroom_l10n::{Arg, Catalog, Domain, Lang};
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::{AppHandle, Manager, Runtime};

/// How often the call status lines are read again without an event: a
/// call expires and contact goes stale by the clock alone.
pub const CALLS_EVERY: Duration = Duration::from_secs(5);

/// The tray's id.
const TRAY: &str = "main";

/// One bank's call status as a tray line: short, no times (the window has
/// them).
pub fn call_line(view: &CallStatusView, lang: Lang) -> String {
    let words = Catalog::get(Domain::Desktop, lang);
    let bank = ("bank", Arg::Str(&view.bank_name));
    match view.state {
        CallState::TalkingNow => {
            let verified = words.text("tray-call-verified");
            let agent = view.agent.as_deref().unwrap_or(&verified);
            words.format("tray-call-talking", &[bank, ("agent", Arg::Str(agent))])
        }
        CallState::NotCalling => words.format("tray-call-not-calling", &[bank]),
        CallState::CantCheck => words.format("tray-call-cant-check", &[bank]),
    }
}

/// The line for the fraud checks waiting for an answer; none when none
/// wait.
pub fn checks_line(open: u32, lang: Lang) -> Option<String> {
    (open > 0).then(|| {
        Catalog::get(Domain::Desktop, lang)
            .format("tray-checks", &[("count", Arg::Num(i64::from(open)))])
    })
}

/// The tray menu in `lang` with `calls` on top.
fn menu<R: Runtime, M: Manager<R>>(
    app: &M,
    calls: &[String],
    lang: Lang,
) -> tauri::Result<Menu<R>> {
    let words = Catalog::get(Domain::Desktop, lang);
    let mut lines = Vec::with_capacity(calls.len());
    for (i, line) in calls.iter().enumerate() {
        lines.push(MenuItem::with_id(
            app,
            format!("call-{i}"),
            line,
            false,
            None::<&str>,
        )?);
    }
    let open = MenuItem::with_id(app, "open", words.text("tray-open"), true, None::<&str>)?;
    let lock = MenuItem::with_id(app, "lock", words.text("tray-lock"), true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", words.text("tray-quit"), true, None::<&str>)?;
    let top = PredefinedMenuItem::separator(app)?;
    let bottom = PredefinedMenuItem::separator(app)?;
    let mut items: Vec<&dyn IsMenuItem<R>> = Vec::new();
    for line in &lines {
        items.push(line);
    }
    if !lines.is_empty() {
        items.push(&top);
    }
    items.extend([&open as &dyn IsMenuItem<R>, &lock, &bottom, &quit]);
    Menu::with_items(app, &items)
}

/// Puts the tray icon up. A menu is what makes the icon appear on Linux
/// (an Ayatana indicator without one is never shown), and it is where a
/// tray app's Quit belongs.
pub fn build(app: &tauri::App, core: Arc<AppCore>) -> tauri::Result<()> {
    let menu_core = core.clone();
    tauri::tray::TrayIconBuilder::with_id(TRAY)
        .tooltip("Strongroom")
        .menu(&menu(app, &[], core.locale().lang)?)
        .show_menu_on_left_click(false)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            "open" => {
                menu_core.touch();
                crate::show_main(app);
            }
            "lock" => {
                menu_core.lock_now();
                menu_core.announce(LiveEvent::Locked);
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .icon(
            app.default_window_icon()
                .cloned()
                .ok_or_else(|| tauri::Error::AssetNotFound("the app's icon".into()))?,
        )
        .on_tray_icon_event(move |tray, event| {
            if let tauri::tray::TrayIconEvent::Click { .. } = event {
                core.touch();
                crate::show_main(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(())
}

/// The tray's unread count, as its tooltip and title.
pub fn show_unread(app: &AppHandle, unread: u32, lang: Lang) {
    if let Some(tray) = app.tray_by_id(TRAY) {
        let text = if unread == 0 {
            "Strongroom".to_owned()
        } else {
            Catalog::get(Domain::Desktop, lang)
                .format("tray-unread", &[("count", Arg::Num(i64::from(unread)))])
        };
        let _ = tray.set_tooltip(Some(&text));
        let _ = tray.set_title(Some(if unread == 0 {
            String::new()
        } else {
            unread.to_string()
        }));
    }
}

/// The call status lines the tray shows now.
#[derive(Default)]
pub struct CallLines {
    shown: Vec<String>,
    /// The language the menu was built in: a new choice rebuilds it.
    lang: Option<Lang>,
}

impl CallLines {
    /// Reads the fraud checks waiting and every bank's call status, and
    /// puts the lines in the tray menu when they changed. Locked (or not
    /// yet open), the app cannot tell: no lines, rather than old ones.
    pub fn refresh(&mut self, app: &AppHandle, core: &AppCore) {
        let lang = core.locale().lang;
        let checks = core.open_checks().and_then(|n| checks_line(n, lang));
        let lines: Vec<String> = checks
            .into_iter()
            .chain(
                core.call_statuses()
                    .map(|views| views.iter().map(|v| call_line(v, lang)).collect::<Vec<_>>())
                    .unwrap_or_default(),
            )
            .collect();
        if lines == self.shown && self.lang == Some(lang) {
            return;
        }
        let Some(tray) = app.tray_by_id(TRAY) else {
            return;
        };
        match menu(app, &lines, lang) {
            Ok(menu) => {
                if tray.set_menu(Some(menu)).is_ok() {
                    self.shown = lines;
                    self.lang = Some(lang);
                }
            }
            Err(e) => eprintln!("strongroom: the tray menu could not be built: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(state: CallState) -> CallStatusView {
        let talking = state == CallState::TalkingNow;
        CallStatusView {
            account: "00000000000000a1".into(),
            bank_name: "Demo Bank".into(),
            state,
            agent: talking.then(|| "Hawa Lind".into()),
            reason: talking.then(|| "suspicious_payment".into()),
            since: talking.then_some(1_000),
            heard_at: Some(1_000),
        }
    }

    #[test]
    fn waiting_checks_have_a_line_of_their_own() {
        assert_eq!(checks_line(0, Lang::En), None);
        assert_eq!(
            checks_line(1, Lang::En).as_deref(),
            Some("1 fraud check to answer")
        );
        assert_eq!(
            checks_line(3, Lang::En).as_deref(),
            Some("3 fraud checks to answer")
        );
        assert_eq!(
            checks_line(1, Lang::De).as_deref(),
            Some("1 Betrugsprüfung zu beantworten")
        );
        assert_eq!(
            checks_line(2, Lang::Fr).as_deref(),
            Some("2 contrôles de fraude en attente de réponse")
        );
    }

    #[test]
    fn each_answer_has_its_own_tray_line() {
        assert_eq!(
            call_line(&view(CallState::TalkingNow), Lang::En),
            "Demo Bank: talking to you now, Hawa Lind"
        );
        assert_eq!(
            call_line(&view(CallState::NotCalling), Lang::En),
            "Demo Bank: not calling you"
        );
        assert_eq!(
            call_line(&view(CallState::CantCheck), Lang::En),
            "Demo Bank: can't check who calls"
        );
        assert_eq!(
            call_line(&view(CallState::NotCalling), Lang::De),
            "Demo Bank: ruft Sie nicht an"
        );
        assert_eq!(
            call_line(&view(CallState::TalkingNow), Lang::Fr),
            "Demo Bank\u{a0}: vous parle en ce moment, Hawa Lind"
        );
    }
}
