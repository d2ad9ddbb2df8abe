# Der Rahmen des Hauptfensters, und was es zu Ereignissen sagt, sobald sie
# eintreffen: Banner (notice-), Texte für Screenreader (announce-), Anrufstatus (app-call-).
# $bank ist immer der Name einer Bank, so wie die Bank ihn angegeben hat.

## Rahmen
app-opening = Ihr sicherer Speicher wird geöffnet…
app-skip-to-content = Zum Inhalt springen
app-lock-now = Jetzt sperren
app-dismiss = Schließen
app-store-not-open = Der verschlüsselte Speicher von Strongroom ist noch nicht geöffnet.

## Navigation
nav-label = Hauptmenü
nav-home = Übersicht
nav-chat = Chat
nav-search = Suche
nav-link = Bank verknüpfen
nav-settings = Einstellungen
# Nach der Zahl auf der Schaltfläche „Übersicht“, für Screenreader.
nav-unread = { $count ->
    [one] ungelesene Meldung
   *[other] ungelesene Meldungen
}

## Banner
notice-unlinked = Die Verknüpfung mit { $bank } wurde aufgehoben: Der Zugriff wurde bei der Bank widerrufen und die Kopie auf diesem Gerät gelöscht.
notice-unlinked-not-revoked = Die Verknüpfung mit { $bank } wurde aufgehoben und die Kopie auf diesem Gerät gelöscht, aber die Bank war nicht erreichbar, um den Zugriff zu widerrufen. Er läuft von selbst ab; Sie können ihn auch auf der Website Ihrer Bank entfernen.
notice-link-ended = { $bank } hat die Verknüpfung beendet. Die Nachrichten und Meldungen dieser Bank wurden von diesem Gerät entfernt.
notice-link-ended-your-bank = Ihre Bank hat die Verknüpfung beendet. Die Nachrichten und Meldungen dieser Bank wurden von diesem Gerät entfernt.

## Für Screenreader
# $kind: die Art der Meldung (kind-* in kinds.ftl); $amount: bereits formatiert, mit Währung.
announce-alert = Neue Meldung von { $bank }: { $kind }.
announce-alert-amount = Neue Meldung von { $bank }: { $kind }, { $amount }.
announce-quarantined = Eine eingegangene Meldung konnte nicht verifiziert werden. Sie wurde in Quarantäne verschoben.
announce-message = Neue Nachricht von { $bank }.
announce-message-your-bank = Neue Nachricht von Ihrer Bank.
announce-report-received = { $bank } hat Ihren Hinweis erhalten.
announce-report-received-your-bank = Ihre Bank hat Ihren Hinweis erhalten.
announce-answer-me = Vielen Dank, Sie haben bestätigt, dass Sie es waren.
announce-answer-not-me = { $bank } wurde informiert, dass Sie es nicht waren.
announce-linked = { $bank } ist verknüpft.
# $agent: der Name der Person, die anruft, so wie die Bank ihn angegeben hat.
announce-call-started = { $bank } ruft Sie gerade an: { $agent }, verifiziert.
announce-call-started-staff = { $bank } ruft Sie gerade an: jemand von der Bank, verifiziert.

## Anrufstatus: Ruft mich wirklich meine Bank an?
# $agent: wer anruft; $reason: warum, in den Worten der Bank; $time: eine Uhrzeit.
app-call-talking = { $agent }, { $bank }, Anlass: { $reason }
app-call-talking-since = { $agent }, { $bank }, Anlass: { $reason }, seit { $time }
app-call-not-calling = { $bank } ruft Sie nicht an. Wenn jemand das behauptet, legen Sie auf.
app-call-cant-check = { $bank } ist nicht erreichbar: Vertrauen Sie niemandem, der anruft und behauptet, von { $bank } zu sein.
app-call-cant-check-since = { $bank } ist seit { $time } nicht erreichbar: Vertrauen Sie niemandem, der anruft und behauptet, von { $bank } zu sein.

## Eine Bank, die das Fenster nicht erreicht ($reason: warum, in den Worten der Shell, ohne Schlusspunkt)
app-offline-retry = Neuer Versuch in { $seconds } s.
app-offline-reason-retry = { $reason }. Neuer Versuch in { $seconds } s.
app-offline-bank-closed = Die Bank hat die Verbindung beendet
