# Die Bestätigungsseiten der Bank (RFC 8628): Die Kundin oder der Kunde meldet
# sich mit dem Passwort der Bank an, bestätigt den Code, den die Strongroom-App
# anzeigt, und erlaubt oder verweigert, worum die App bittet. $bank ist der
# Name der Bank, $code der Code (beide unverändert). Reiner Text: Die Seite
# hebt den Code selbst hervor.

## Anmeldeseite
consent-sign-in-title = { $bank } – Strongroom verknüpfen
consent-sign-in-heading = { $bank }: Strongroom-App verknüpfen
consent-sign-in-intro = Melden Sie sich mit Ihrem Benutzernamen und Passwort für { $bank } an und geben Sie den Code ein, den die App anzeigt.
consent-code-label = Code aus der App
consent-username = Benutzername
consent-password = Passwort
consent-sign-in = Anmelden

## Was bei der Anmeldung schiefgehen kann
consent-error-too-large = Das Formular ist zu groß.
consent-error-form-expired = Dieses Formular ist abgelaufen oder wurde bereits verwendet. Bitte versuchen Sie es erneut.
consent-error-credentials-missing = Geben Sie Ihren Benutzernamen und Ihr Passwort ein.
consent-error-busy = Die Bank ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.
consent-error-too-many-sign-ins-seconds =
    Zu viele fehlgeschlagene Anmeldeversuche. Warten Sie { $seconds ->
        [one] { $seconds } Sekunde
       *[other] { $seconds } Sekunden
    } und versuchen Sie es dann erneut.
consent-error-too-many-sign-ins-minutes =
    Zu viele fehlgeschlagene Anmeldeversuche. Warten Sie { $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    } und versuchen Sie es dann erneut.
consent-error-wrong-password = Benutzername oder Passwort ist nicht richtig.
consent-error-too-many-codes =
    Zu viele falsche Codes. Warten Sie { $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    } und starten Sie die Verknüpfung dann in der App neu.
consent-error-code-malformed = Dieser Code ist nicht richtig. Prüfen Sie den Code, den die App anzeigt.
consent-error-code-spent = Dieser Code wurde zu oft mit falschen Passwörtern versucht. Starten Sie die Verknüpfung in der App neu.
consent-error-code-unknown = Dieser Code ist nicht richtig oder abgelaufen. Prüfen Sie den Code, den die App anzeigt.

## Einwilligungsseite
consent-title = { $bank } – Strongroom zulassen
consent-heading = Darf die Strongroom-App Ihr Konto bei { $bank } nutzen?
# Die Seite hebt $code in einer Schrift mit fester Breite hervor.
consent-code = Code { $code }. Fahren Sie nur fort, wenn dieser Code in Ihrer eigenen Strongroom-App angezeigt wird.
consent-app-can = Die App kann dann:
consent-scope-alerts = Von der Bank signierte Meldungen empfangen: Umsätze, Kontostand, Sicherheitsereignisse und Betrugsprüfungen, und Ihre Antworten auf Betrugsprüfungen senden.
consent-scope-chat = Chatnachrichten mit den Mitarbeitenden der Bank senden und empfangen.
consent-app-cannot = Sie sieht Ihr Passwort nicht und kann keine Zahlungen ausführen. Sie können die Verknüpfung jederzeit aufheben.
consent-approve = Zulassen
consent-deny = Ablehnen

## Nach „Zulassen“ oder „Ablehnen“
consent-choose = Wählen Sie „Zulassen“ oder „Ablehnen“.
consent-approved = Zugriff erlaubt
consent-approved-next = Sie können zur Strongroom-App zurückkehren; sie schließt die Verknüpfung selbst ab.
consent-denied = Zugriff abgelehnt
consent-denied-next = Die App wurde nicht verknüpft. Wenn Sie das nicht selbst veranlasst haben, informieren Sie Ihre Bank.
consent-expired = Abgelaufen
consent-page-expired = Diese Seite ist abgelaufen oder wurde bereits verwendet.
consent-page-expired-next = Beginnen Sie erneut mit dem Code in der App.
consent-code-expired = Dieser Code ist abgelaufen oder wurde bereits verwendet.
consent-code-expired-next = Beginnen Sie erneut in der App.
consent-error = Fehler
consent-error-internal = Etwas ist schiefgegangen. Bitte versuchen Sie es erneut.
