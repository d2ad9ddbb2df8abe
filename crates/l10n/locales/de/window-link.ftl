# Eine Bank verknüpfen: Die Kundin oder der Kunde gibt die Adresse der Bank ein,
# liest, was weitergegeben wird, und bestätigt mit einem Code auf der Website der Bank.
# $bank ist der Name der Bank.

## Adresse der Bank eingeben
link-title = Bank verknüpfen
link-intro = Die Verknüpfung ist freiwillig und lässt sich jederzeit in den Einstellungen aufheben. Sie bestätigen sie auf der Website Ihrer Bank; Strongroom sieht Ihr Passwort für das Online-Banking nie.
link-address-label = Adresse Ihrer Bank
link-address-hint = Diese Adresse erhalten Sie von Ihrer Bank. Sie beginnt mit https://
link-address-empty = Geben Sie die Adresse Ihrer Bank ein.
# Die Beispieladresse bleibt unverändert.
link-address-not-url = Das ist keine gültige Webadresse. Beispiel: https://bank.example
link-address-not-https = Die Adresse Ihrer Bank muss mit https:// beginnen.
link-address-credentials = Die Adresse darf keinen Benutzernamen und kein Passwort enthalten.
link-contacting = Bank wird kontaktiert…
link-continue = Weiter
# Zwischen „Weiter“ und „Demo-Bank verwenden“.
link-or = oder
link-use-demo = Demo-Bank verwenden
link-use-demo-at = Demo-Bank unter { $host } verwenden
link-declined = Die Verknüpfung wurde bei { $bank } abgelehnt. Es wurde nichts weitergegeben. Sie können es erneut versuchen.
link-expired = Der Code ist abgelaufen, bevor er bestätigt wurde. Es wurde nichts weitergegeben. Beginnen Sie neu, um einen neuen Code zu erhalten.

## Einwilligung
link-consent-title = { $bank } verknüpfen?
# Folgt auf Namen und Webadresse der Bank, die fett davor stehen; danach
# kommt die Liste dessen, was weitergegeben wird.
link-consent-asks = möchte sich auf diesem Gerät mit Strongroom verknüpfen. Wenn Sie zustimmen, wird genau Folgendes weitergegeben:
link-consent-nothing-else = Sonst wird nichts weitergegeben. Sie können die Verknüpfung jederzeit in den Einstellungen aufheben.
link-accept = Zustimmen
link-cancel = Abbrechen

## Bestätigung bei der Bank
link-approve-title = Bei { $bank } bestätigen
link-step-open = Öffnen Sie die Website Ihrer Bank im Browser unter dieser Adresse:
link-step-code = Melden Sie sich wie gewohnt an und geben Sie diesen Code ein, wenn Sie dazu aufgefordert werden:
link-step-check = Prüfen Sie, ob der Code auf der Seite der Bank übereinstimmt, und bestätigen Sie dann.
link-copy = Kopieren
link-copied-address = Adresse kopiert
link-copied-code = Code kopiert
link-copy-unavailable = Kopieren ist nicht möglich: Markieren Sie den Text und kopieren Sie ihn.
# Für Screenreader; $code ist der Code mit Leerzeichen zwischen den Zeichen.
link-code-label = Code: { $code }
# $remaining sind Minuten und Sekunden, etwa 9:58.
link-waiting = Warten auf Ihre Bestätigung… Der Code läuft in { $remaining } ab.

## Beleg
link-linked-title = { $bank } ist verknüpft
link-receipt-title = Einwilligungsbeleg
link-receipt-bank = Bank
# Wann die Bank verknüpft wurde; Datum und Uhrzeit folgen.
link-receipt-linked = Verknüpft am
link-receipt-shared = An die Bank weitergegeben
# „Einstellungen“ und „Datenschutzprotokoll“ sind die Namen des Bildschirms und seines Abschnitts.
link-receipt-kept = Dieser Beleg ist auch unter Einstellungen → Datenschutzprotokoll abgelegt.
link-done = Fertig

link-share-device_key = { $bank } erfährt, dass Sie Strongroom auf diesem Gerät nutzen, und erhält den öffentlichen Schlüssel dieses Geräts.
link-share-alerts = { $bank } kann diesem Gerät Meldungen zu Ihren Konten senden (Scope: alerts).
link-share-chat = Sie und die Mitarbeitenden von { $bank } können chatten; { $bank } bewahrt auf, was Sie senden (Scope: chat).
link-share-fraud_answers = Ihre Antworten auf Betrugsprüfungen gehen an { $bank }, an dieses Gerät gebunden.
link-share-nothing_else = Sonst nichts: keine Kontakte, kein Standort, keine anderen Banken, keine Analysedaten.
