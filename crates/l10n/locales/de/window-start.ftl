# Die Bildschirme vor dem Hauptfenster: Sperrbildschirm, erster Start, und
# was das Fenster sagt, wenn Strongroom nicht starten kann.

## Sperrbildschirm
lock-title = Strongroom ist gesperrt
lock-keys-removed = Ihre Schlüssel wurden aus dem Arbeitsspeicher entfernt.
lock-enter-passphrase = Geben Sie Ihr App-Passwort ein, um fortzufahren.
lock-press-unlock = Entsperren Sie Strongroom, um fortzufahren.
lock-passphrase = App-Passwort
lock-wrong-passphrase = Dieses Passwort ist nicht richtig. Bitte versuchen Sie es erneut.
lock-unlock = Entsperren
lock-unlocking = Wird entsperrt…

## Erster Start
first-run-title = Willkommen bei Strongroom
first-run-lead = Sichere Nachrichten und Meldungen, die nachweislich von Ihrer Bank stammen – ohne Zwischenstelle.
first-run-keychain-title = Prüfung des Schlüsselbunds
first-run-keychain-ok = Der Schlüsselbund Ihres Systems ist verfügbar, und Ihr verschlüsselter Speicher ist geöffnet.
first-run-data-title = Was Strongroom mit Ihren Daten macht
# Jeder Punkt beginnt fett: $em ist der .em-Text, an der Stelle, an die er im Satz gehört.
first-run-fact-local = { $em } Nachrichten und Meldungen werden nur hier gespeichert.
    .em = Speichert Ihren Verlauf verschlüsselt auf diesem Gerät.
first-run-fact-keys = { $em }, nie in einer ungeschützten Datei.
    .em = Bewahrt seine Schlüssel im Schlüsselbund Ihres Systems auf
first-run-fact-bank-only = { $em } Es gibt keinen Strongroom-Server und niemanden dazwischen.
    .em = Kommuniziert nur mit Ihrer Bank.
first-run-fact-password = { $em } Sie bestätigen jede Verknüpfung auf der Website Ihrer Bank.
    .em = Sieht nie Ihr Passwort für das Online-Banking.
first-run-fact-no-tracking = Keine Analyse, kein Tracking, keine Werbung.
first-run-pass-title = App-Passwort
first-run-optional = (optional)
first-run-pass-already-set = Ein App-Passwort ist bereits festgelegt. Sie können es später in den Einstellungen ändern.
first-run-pass-label = Passwort zum Entsperren von Strongroom
first-run-show = Anzeigen
first-run-hide = Verbergen
first-run-pass-hint = Lassen Sie das Feld leer, um ohne Passwort zu entsperren. Mit Passwort fragt Strongroom danach, sobald es gesperrt wurde. Wählen Sie eines, das Sie sich merken können.
first-run-continue = Weiter
first-run-saving = Wird gespeichert…

## Strongroom kann nicht starten
# Titel und Schritte für jedes Schlüsselbund-Problem. Menü- und Programmnamen
# sind die des Desktops (GNOME, KDE Plasma), wie er sie auf Deutsch zeigt.
start-keychain-missing-title = Kein Schlüsselbund des Systems gefunden
start-keychain-missing-step-1 = Strongroom bewahrt seine Schlüssel im Schlüsselbund Ihres Desktops (dem Secret Service) auf, und es läuft keiner.
start-keychain-missing-step-2 = GNOME und die meisten Desktops: Installieren Sie GNOME Keyring (unter Debian oder Ubuntu: sudo apt install gnome-keyring), melden Sie sich dann ab und wieder an.
start-keychain-missing-step-3 = KDE Plasma: Installieren Sie KWallet (sudo apt install kwalletmanager), aktivieren Sie es unter Systemeinstellungen → KDE-Passwortspeicher, melden Sie sich dann ab und wieder an.
start-press-retry = Klicken Sie dann auf „Erneut versuchen“.
start-keychain-locked-title = Ihr Schlüsselbund ist gesperrt
start-keychain-locked-step-1 = GNOME: Öffnen Sie „Passwörter und Verschlüsselung“ (Seahorse), wählen Sie den Schlüsselbund „Anmeldung“ und dann „Entsperren“; geben Sie Ihr Anmeldepasswort ein.
start-keychain-locked-step-2 = KDE Plasma: Öffnen Sie die KWallet-Verwaltung und öffnen Sie Ihren Passwortspeicher mit seinem Passwort.
start-keychain-denied-title = Strongroom durfte Ihren Schlüsselbund nicht verwenden
start-keychain-denied-step-1 = Ihr Schlüsselbund hat den Zugriff verweigert, oder die Anfrage wurde abgebrochen.
start-keychain-denied-step-2 = Klicken Sie auf „Erneut versuchen“, und erlauben Sie den Zugriff, wenn Ihr Desktop fragt, ob Strongroom den Schlüsselbund verwenden darf.
start-keychain-denied-step-3 = KDE Plasma: Prüfen Sie in der KWallet-Verwaltung, dass Strongroom nicht in der Liste der abgelehnten Anwendungen steht.
start-keychain-failed-title = Strongroom konnte Ihren Schlüsselbund nicht verwenden
start-follow-advice = Folgen Sie den Hinweisen unten, und klicken Sie dann auf „Erneut versuchen“.
start-failed-title = Strongroom konnte nicht starten
start-failed-step = Folgen Sie den Hinweisen unten, und klicken Sie dann auf „Erneut versuchen“. Wenn es wieder passiert, starten Sie Ihren Computer neu.
# $code: ein fester Fehlercode wie keychain_locked; unverändert lassen.
start-code = Code: { $code }
start-how-to-fix = So beheben Sie das Problem
start-nothing-lost = Es ist nichts verloren gegangen. Ihr Verlauf bleibt verschlüsselt auf diesem Gerät, und Strongroom speichert Ihre Schlüssel nirgendwo sonst.
start-retry = Erneut versuchen
start-retrying = Wird geprüft…
