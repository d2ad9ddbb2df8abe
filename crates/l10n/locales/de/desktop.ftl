# Die Desktop-Shell: Benachrichtigungen und das Tray-Menü.

## Benachrichtigungen
notify-quarantined = Eine Meldung hat die Prüfung nicht bestanden und wurde in Quarantäne verschoben.
notify-new-activity = Neue Aktivität
notify-alert-amount = { $kind }: { $amount }
notify-alert-amount-merchant = { $kind }: { $amount } bei { $merchant }
notify-call-title = { $bank } ruft Sie an
notify-call-body = { $agent }, wegen { $reason }. Von Strongroom bestätigt.
notify-call-hidden = Ihre Bank ruft Sie an
notify-call-bank = { $bank } ruft Sie an. Von Strongroom bestätigt.

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
tray-call-verified = bestätigt
tray-call-not-calling = { $bank }: ruft Sie nicht an
tray-call-cant-check = { $bank }: Anrufer kann nicht geprüft werden
