# Die Textausgabe von strongroom-cli (nicht --json, das maschinenlesbar
# bleibt, und nicht --help, das clap auf Englisch schreibt). Namen von Banken,
# Codes, URLs, IDs und die Worte der Bank kommen als Werte in diese Texte.

## Allgemein
# Trennt die Einträge einer Liste: Fingerabdrücke von Schlüsseln.
cli-list-separator = {", "}
# Jede Zeile auf stderr beginnt mit dem Namen des Programms.
cli-error = strongroom-cli: { $message } ({ $code })
# Folgt auf eine Fehlerzeile: der Fehler in den Worten des Teils, der
# scheiterte (auf Englisch), mit dem, was der Katalog auslässt: welche Datei,
# der Grund des Systems.
cli-error-detail = {"  "}(technische Angabe: { $detail })
cli-cannot-start = strongroom-cli: Start nicht möglich: { $error }
cli-file-error = strongroom-cli: { $path }: { $error }
# Das genannte Konto, wenn gar kein Konto verknüpft ist.
cli-none-linked = (kein Konto verknüpft)
cli-several-match = { $name }: Mehrere Konten passen; verwenden Sie die Konto-ID

## Schäden am verschlüsselten Verlauf, beim Entsperren gefunden (Warnung auf stderr)
# $findings ist eine Liste der folgenden Texte, getrennt durch cli-damage-separator.
cli-damage = Warnung: Konto { $account }: { $findings }; der übrige Verlauf ist lesbar
cli-damage-separator = {"; "}
cli-damage-rows =
    { $rows ->
        [one] { $rows } beschädigter Datensatz ausgeblendet
       *[other] { $rows } beschädigte Datensätze ausgeblendet
    } ({ $messages ->
        [one] { $messages } Nachricht
       *[other] { $messages } Nachrichten
    }, { $alerts ->
        [one] { $alerts } Meldung
       *[other] { $alerts } Meldungen
    })
cli-damage-conversation =
    Unterhaltung { $conversation }: { $recorded ->
        [one] { $recorded } Datensatz erfasst
       *[other] { $recorded } Datensätze erfasst
    }, { $found } vorhanden, oder Datensätze auf einen früheren Stand zurückgesetzt
# $table ist der Name der Tabelle im Speicher (alerts, messages …) und bleibt unübersetzt.
cli-damage-table =
    { $table }: { $recorded ->
        [one] { $recorded } Datensatz erfasst
       *[other] { $recorded } Datensätze erfasst
    }, { $found } vorhanden, oder Datensätze auf einen früheren Stand zurückgesetzt
cli-damage-rolled-back = die Datenbankdatei ist eine ältere Kopie (Schreibvorgang { $found }, der Schlüsselbund kennt Schreibvorgang { $anchored })
cli-damage-head-forged = der Integritätsnachweis des Verlaufs wurde verändert
cli-damage-head-missing = der Integritätsnachweis des Verlaufs wurde entfernt

## link, accounts, unlink
# $scope sind die Namen der Berechtigungen, wie gesendet (alerts chat), unübersetzt.
cli-link-pending =
    Um { $bank } zu verknüpfen, öffnen Sie { $url }
    und bestätigen Sie den Code { $code }
    { $bank } teilt mit diesem Gerät: { $scope } (Meldungen und Chat mit den Mitarbeitenden der Bank).
    Warten auf Ihre Bestätigung…
cli-linked = { $bank } ist als Konto { $account } verknüpft.
# Eine Zeile von `accounts`: Konto-ID, Name der Bank, ihre Aussteller-URL.
cli-account = { $account }  { $bank }  { $issuer }
cli-unlinked = Verknüpfung mit { $bank } aufgehoben: Die Bank hat dieses Gerät gesperrt, und die Daten des Kontos auf diesem Gerät sind gelöscht.
cli-unlinked-not-revoked = Verknüpfung mit { $bank } aufgehoben: Die Daten des Kontos auf diesem Gerät sind gelöscht, aber die Bank war nicht erreichbar, um die Verknüpfung zu widerrufen. Sperren Sie dieses Gerät in Ihrem Online-Banking.

## Meldungen
cli-badge-verified = [verifiziert: { $bank }]
cli-badge-quarantined = [QUARANTÄNE: nicht verifiziert, nicht von Ihrer Bank]
cli-answered-me = (beantwortet: Das war ich)
cli-answered-not-me = (beantwortet: Das war ich nicht)
cli-awaiting-answer = (wartet auf Ihre Antwort)
# Eine Meldung: $badge (oben), $kind (Art der Meldung), $text (Worte der
# Bank), $amount (im Format der Kundin oder des Kunden), $answer (oben) und
# $id (für `answer`).
cli-alert = { $badge } { $kind } { $text }  id={ $id }
cli-alert-amount = { $badge } { $kind } { $text } { $amount }  id={ $id }
cli-alert-answer = { $badge } { $kind } { $text } { $answer }  id={ $id }
cli-alert-amount-answer = { $badge } { $kind } { $text } { $amount } { $answer }  id={ $id }
cli-answered = Ihre Antwort wurde an { $bank } gesendet und gespeichert.

## chat
cli-chat-sent = Gesendet.
cli-chat-queued = In der Warteschlange: Die Nachricht wird gesendet, sobald die Bank erreichbar ist (`watch` ausführen).

## watch: eine Zeile je Ereignis
cli-watching =
    Live-Empfang für { $count ->
        [one] { $count } verknüpftes Konto
       *[other] { $count } verknüpfte Konten
    }. Mit Strg+C beenden.
cli-event-chat = [Chat] { $author }: { $body }
cli-event-chat-own = [Chat] (Sie, anderes Gerät) { $author }: { $body }
cli-event-connected = [verbunden] { $bank }
# $reason ist der Verbindungsfehler, wie das System ihn meldet.
cli-event-disconnected = [getrennt] { $reason }; neuer Versuch in { $ms } ms
cli-event-bank-closed = die Bank hat die Verbindung beendet
cli-event-chat-accepted = [Chat] Ihre Nachricht hat die Bank erreicht
cli-event-flags = [Pilotfunktionen] { $flags }
cli-event-keys-rotated = [Schlüssel] Die Bank hat ihre Signaturschlüssel gewechselt (Version { $version })
cli-event-revoked = [gesperrt] { $bank } akzeptiert dieses Gerät nicht mehr

## call-status und report-scam-call
cli-call-talking = [spricht gerade mit Ihnen] { $agent }, { $bank }, Anlass: { $reason }, seit { $time }
cli-call-not-calling = [ruft Sie nicht an] { $bank } ruft Sie nicht an. Wenn jemand das behauptet, legen Sie auf.
cli-call-cant-check = [keine Prüfung möglich] { $bank } ist nicht erreichbar: Vertrauen Sie niemandem, der anruft und behauptet, von { $bank } zu sein.
cli-call-cant-check-since = [keine Prüfung möglich] { $bank } ist seit { $time } nicht erreichbar: Vertrauen Sie niemandem, der anruft und behauptet, von { $bank } zu sein.
# $time ist HH:MM (24 Stunden).
cli-clock = { $time } UTC
# Folgt auf „seit“ in cli-call-talking, wenn der Beginn unbekannt ist.
cli-clock-unknown = unbekannter Zeit
# Worum es im Anruf geht ($reason in cli-call-talking, nach „Anlass:“).
cli-scam-report = { $bank } hat Ihren Hinweis erhalten. Vielen Dank: So kann die Bank den Anrufer stoppen.

## export-transcript und verify-transcript
cli-transcript-written =
    { $alerts ->
        [one] { $alerts } Meldung
       *[other] { $alerts } Meldungen
    } und { $rotations } Schlüsselwechsel in { $path } gespeichert
cli-transcript-unreadable = { $path } kann nicht gelesen werden: { $error }
cli-transcript-too-large = { $path } ist größer als jedes Protokoll
cli-transcript-failed =
    { $count ->
        [one] { $count } Meldung im Protokoll lässt sich nicht verifizieren
       *[other] { $count } Meldungen im Protokoll lassen sich nicht verifizieren
    }
# $pinned ist einer der drei folgenden Texte; $keys eine Liste von cli-transcript-key.
cli-transcript =
    Protokoll (Format { $format }) der Meldungen von { $issuer } an { $audience }
    Festgelegte Schlüssel { $pinned }: { $keys }
    Rotationsnachweise: { $rotations } (die Kette ist lückenlos)
    { $verified } von { $alerts } Meldungen lassen sich mit dieser Kette verifizieren.
cli-transcript-pinned-format-1 = (Format 1: die Schlüssel, die die Datei nennt, ohne Kette)
cli-transcript-pinned-at-link = bei der Verknüpfung
cli-transcript-pinned-at-rotation = bei Schlüsselwechsel { $version }
cli-transcript-key = { $thumbprint } (kid { $kid })
# $reason ist die Prüfung, an der die Meldung scheiterte, wie die Prüfung sie meldet.
cli-transcript-failure = {"  "}Meldung { $index } lässt sich NICHT verifizieren: { $reason }
cli-transcript-proves = Was das beweist: { $proves }
# Was ein Protokoll beweist. Nie sagen, die Meldungen stammten von der Bank,
# außer in cli-proves-bank (die veröffentlichten Schlüssel der Bank stehen
# für jede Meldung ein).
cli-proves-bank = { $verified } von { $alerts } Meldungen sind mit Schlüsseln signiert, für die { $bank } derzeit einsteht: Die Bank veröffentlicht über TLS die Schlüssel { $published }, und mit ihren Schlüsseln signierte Rotationsnachweise verbinden diese mit den Schlüsseln, mit denen die Meldungen signiert wurden. Soweit diesem TLS-Zertifikat vertraut wird, stammen diese Meldungen von { $bank } und waren an { $audience } gerichtet.
# $whose ist einer der drei folgenden Texte, $tie ist cli-proves-tie.
cli-proves-checked = { $whose }. Empfänger: { $audience }. Nur { $confirmed } von { $alerts } Meldungen sind mit Schlüsseln signiert, für die { $bank } derzeit einsteht. { $tie }
cli-proves-offline = { $whose }. Empfänger: { $audience } ({ $verified } von { $alerts } verifiziert). { $tie }
cli-proves-whose-format-1 = FORMAT 1, IN SICH GESCHLOSSEN: Die Schlüssel stammen aus derselben Datei, daher beweist dies NICHTS über die Bank; jeder kann eine solche Datei mit einem eigenen Schlüssel erstellen. Diese Meldungen wurden mit den in der Datei aufgeführten Schlüsseln signiert
# $prints ist eine Liste von cli-proves-print.
cli-proves-whose-link = Diese Meldungen wurden mit den Schlüsseln signiert, die dieses Gerät bei der Verknüpfung mit { $issuer } festgelegt hat (Fingerabdruck { $prints }), oder mit Schlüsseln, zu denen diese laut den signierten Rotationsnachweisen in dieser Datei ({ $rotations }) gewechselt haben
cli-proves-whose-rotation = Diese Meldungen wurden mit den Schlüsseln signiert, die dieses Gerät für { $issuer } bei Schlüsselwechsel { $version } festgelegt hatte (Fingerabdruck { $prints }; das Gerät hat die Kette seit der Verknüpfung nicht aufbewahrt), oder mit Schlüsseln, zu denen diese laut den signierten Rotationsnachweisen in dieser Datei ({ $rotations }) gewechselt haben
cli-proves-print = { $thumbprint } ({ $kid })
# --bank <issuer> ist die Option des Befehls und bleibt unübersetzt.
cli-proves-tie = Dies zeigt NICHT, dass diese Schlüssel der Bank gehören: Die Datei nennt die Bank selbst. Prüfen Sie mit --bank <issuer> (die von der Bank veröffentlichten Schlüssel, online) oder vergleichen Sie den Fingerabdruck mit einem, den die Bank veröffentlicht.
