# Die Desktop-Shell: Benachrichtigungen und das Tray-Menü.

## Benachrichtigungen
notify-quarantined = Eine Meldung konnte nicht verifiziert werden und wurde in Quarantäne verschoben.
notify-new-activity = Neue Aktivität
notify-alert-amount = { $kind }: { $amount }
notify-alert-amount-merchant = { $kind }: { $amount } bei { $merchant }
notify-call-title = { $bank } ruft Sie an
notify-call-body = { $agent }, Anlass: { $reason }. Von Strongroom verifiziert.
notify-call-hidden = Ihre Bank ruft Sie an
notify-call-bank = { $bank } ruft Sie an. Von Strongroom verifiziert.

notify-open = Öffnen

## Tray
tray-open = Strongroom öffnen
tray-lock = Jetzt sperren
tray-quit = Strongroom beenden
tray-unread = Strongroom: { $count } ungelesen
tray-checks = { $count ->
    [one] { $count } Betrugsprüfung zu beantworten
   *[other] { $count } Betrugsprüfungen zu beantworten
}
tray-call-talking = { $bank }: spricht gerade mit Ihnen, { $agent }
tray-call-verified = verifiziert
tray-call-not-calling = { $bank }: ruft Sie nicht an
tray-call-cant-check = { $bank }: Anrufer kann nicht geprüft werden
