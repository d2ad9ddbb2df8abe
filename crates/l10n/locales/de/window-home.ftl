# Die Übersicht: verknüpfte Konten, Meldungen, ob eine Bank gerade anruft, und
# die Warnung, wenn der Verlauf auf diesem Gerät beschädigt wurde.
# $bank ist immer der Name einer Bank, so wie die Bank ihn angibt.

## Übersicht
home-title = Übersicht
# Überschrift für Screenreader über den Kontokarten.
home-accounts-title = Verknüpfte Konten
home-empty-title = Noch keine Bank verknüpft
home-empty-body = Verknüpfen Sie Ihre Bank, um Meldungen mit nachweisbarer Herkunft zu erhalten und mit ihren Mitarbeitenden zu chatten.
home-link = Bank verknüpfen
home-alerts-title = Meldungen
# Hinweis neben der Überschrift „Meldungen“: noch nicht beantwortete Betrugsprüfungen.
home-pending = { $count ->
    [one] { $count } wartet auf Ihre Antwort
   *[other] { $count } warten auf Ihre Antwort
}
# Beschriftung des Bankfilters, gefolgt von einer Liste der Banken.
home-filter = Anzeigen
home-filter-all = Alle Banken
home-no-alerts = Noch keine Meldungen. Neue Meldungen Ihrer Bank erscheinen hier, sobald sie eintreffen.
home-more = Ältere Meldungen anzeigen ({ $count } weitere)

## Ein verknüpftes Konto (eine Karte in der Übersicht)
account-connected = Verbunden
account-offline = Offline
# $when: eine Uhrzeit (heute) oder Datum und Uhrzeit.
account-balance-at = Stand: { $when }
account-no-balance = Noch kein Kontostand
# Für Screenreader zum Verlaufsdiagramm: $from und $to sind Beträge, $fromDate und $toDate Datum mit Uhrzeit.
sparkline-balance = Kontostand von { $from } am { $fromDate } bis { $to } am { $toDate }
# Fett gedruckt, gefolgt von account-damaged.
account-damaged-label = Achtung:
account-damaged = Ein Teil des Verlaufs dieser Bank auf diesem Gerät ist beschädigt. Beachten Sie die Warnung oben.
account-not-connected = Derzeit keine Verbindung zur Bank.
# Folgt auf den Grund, warum die Bank offline ist.
account-offline-hint = Neue Meldungen kommen an, sobald die Verbindung wieder besteht; Ihre Nachrichten warten bis dahin auf diesem Gerät.
account-chat = Chat mit { $bank }
# Für Screenreader nach der Zahl ungelesener Meldungen (die Zahl steht davor).
account-unread = { $count ->
    [one] ungelesene Meldung
   *[other] ungelesene Meldungen
}

## Eine Meldung
alert-verified-by = Verifiziert von { $bank }
# Tooltip: $key ist der Signaturschlüssel der Bank.
alert-signed-with = Signiert mit Schlüssel { $key }
alert-severity-critical = Dringend
alert-severity-warning = Wichtig
alert-answer-failed = Ihre Antwort konnte nicht gesendet werden. Bitte versuchen Sie es erneut.

## Betrugsprüfung: Die Bank fragt, ob die Zahlung von Ihnen stammt
alert-fraud-question = Waren Sie das?
alert-fraud-me = Das war ich
alert-fraud-not-me = Das war ich nicht
alert-fraud-answered-me = Sie haben bestätigt, dass Sie es waren. Vielen Dank.
alert-fraud-answered-not-me = Sie haben { $bank } mitgeteilt, dass Sie es nicht waren. Ihre Antwort wurde von diesem Gerät an die Bank gesendet; die nächsten Schritte erfahren Sie im Chat mit der Bank.

## Meldung in Quarantäne: Sie konnte nicht verifiziert werden
alert-quarantine-label = Meldung in Quarantäne, nicht verifiziert
alert-quarantine-warning = Diese Meldung konnte nicht verifiziert werden und stammt nicht von Ihrer Bank. Reagieren Sie nicht darauf.
alert-quarantine-show = Details anzeigen
alert-quarantine-hide = Ausblenden
alert-quarantine-received = Empfangen: { $when }.
# Gefolgt vom technischen Grund (englisch, unübersetzt).
alert-quarantine-reason = Grund:
alert-quarantine-content = Nicht verifizierter Inhalt, genau wie empfangen:

## Ob die Bank Sie gerade anruft, wie dieses Gerät es geprüft hat
call-talking-now = Spricht gerade mit Ihnen
call-not-calling = Ruft Sie nicht an
call-cant-check = Nicht prüfbar
# $time: eine Uhrzeit.
call-report-received = { $bank } hat Ihren Hinweis um { $time } Uhr erhalten. Vielen Dank: Das hilft der Bank, den Anrufer zu stoppen.
call-report-open = Betrugsanruf melden
call-report-number = Nummer, von der Sie angerufen wurden (optional)
call-report-note = Was hat der Anrufer gesagt? (optional)
call-report-too-long = Die Notiz ist zu lang: höchstens { $max } Byte.
call-report-sending = Wird gesendet…
call-report-send = An { $bank } senden
call-report-cancel = Abbrechen

## Schäden, die die Integritätsprüfung beim Entsperren gefunden hat
# Fett gedruckte Überschrift: $title ist damage-title oder damage-title-unknown.
damage-warning = Achtung: { $title }
damage-title = Ein Teil des Verlaufs von { $bank } auf diesem Gerät ist beschädigt
damage-title-unknown = Ein Teil des Verlaufs einer Bank auf diesem Gerät ist beschädigt
damage-details-summary = Details für Ihre Bank
# Steht unten für $bank, wenn die Bank noch nicht bekannt ist; immer im Dativ
# (nach „mit“ und „von“).
damage-unknown-bank = einer Ihrer Banken
# $history in den Sätzen unten ist eine dieser beiden Angaben, ohne Artikel:
# „im { $history }“, „den { $history }“.
damage-history = Verlauf von { $bank }
damage-history-unknown = Verlauf einer Ihrer Banken
damage-hidden-messages = { $count ->
    [one] { $count } beschädigte Nachricht in Ihrem Chat mit { $bank } wurde ausgeblendet.
   *[other] { $count } beschädigte Nachrichten in Ihrem Chat mit { $bank } wurden ausgeblendet.
}
damage-hidden-alerts = { $count ->
    [one] { $count } beschädigte Meldung im { $history } wurde ausgeblendet.
   *[other] { $count } beschädigte Meldungen im { $history } wurden ausgeblendet.
}
damage-hidden-other = { $count ->
    [one] { $count } weiterer beschädigter Eintrag im { $history } wurde ausgeblendet.
   *[other] { $count } weitere beschädigte Einträge im { $history } wurden ausgeblendet.
}
# $counts in damage-scope-fewer und damage-scope-more.
damage-scope-counts = zuletzt von Strongroom gespeichert: { $recorded }, jetzt vorhanden: { $found }
# Gelöschte, hinzugefügte oder zurückgesetzte Einträge. $table: messages,
# alerts, outbox (noch nicht gesendete Nachrichten) oder andere Einträge der Verknüpfung.
damage-scope-fewer = { $table ->
    [messages] In Ihrem Chat mit { $bank } wurden Nachrichten gelöscht oder zurückgesetzt ({ $counts }).
    [alerts] Im { $history } wurden Meldungen gelöscht oder zurückgesetzt ({ $counts }).
    [outbox] In Ihrem Chat mit { $bank } wurden noch nicht gesendete Nachrichten gelöscht oder zurückgesetzt ({ $counts }).
   *[other] Im { $history } wurden Einträge Ihrer Verknüpfung gelöscht oder zurückgesetzt ({ $counts }).
}
damage-scope-more = { $table ->
    [messages] In Ihrem Chat mit { $bank } wurden außerhalb der App Nachrichten hinzugefügt oder zurückgesetzt ({ $counts }).
    [alerts] Im { $history } wurden außerhalb der App Meldungen hinzugefügt oder zurückgesetzt ({ $counts }).
    [outbox] In Ihrem Chat mit { $bank } wurden außerhalb der App noch nicht gesendete Nachrichten hinzugefügt oder zurückgesetzt ({ $counts }).
   *[other] Im { $history } wurden außerhalb der App Einträge Ihrer Verknüpfung hinzugefügt oder zurückgesetzt ({ $counts }).
}
damage-scope-older = { $table ->
    [messages] Die Nachrichten in Ihrem Chat mit { $bank } wurden auf einen älteren Stand zurückgesetzt.
    [alerts] Die Meldungen im { $history } wurden auf einen älteren Stand zurückgesetzt.
    [outbox] Die noch nicht gesendeten Nachrichten in Ihrem Chat mit { $bank } wurden auf einen älteren Stand zurückgesetzt.
   *[other] Die Einträge Ihrer Verknüpfung im { $history } wurden auf einen älteren Stand zurückgesetzt.
}
damage-scope-outbox-hint = Prüfen Sie Ihren Chat und senden Sie Fehlendes erneut.
damage-alarm-head-forged = Der Datensatz, mit dem Strongroom den { $history } prüft, wurde außerhalb der App bearbeitet. Gelöschte Nachrichten oder Meldungen werden daher möglicherweise nicht alle erkannt.
damage-alarm-head-missing = Der Datensatz, mit dem Strongroom den { $history } prüft, wurde aus der Datei entfernt. Gelöschte Nachrichten oder Meldungen werden daher möglicherweise nicht alle erkannt.
damage-alarm-rolled-back = Die Verlaufsdatei von { $bank } auf diesem Gerät ist eine ältere Kopie als die, die Strongroom zuletzt verwendet hat: Nachrichten und Meldungen, die seitdem eingegangen sind, fehlen möglicherweise.
damage-found = Strongroom hat Schäden im { $history } gefunden.
damage-advice = Alles andere in Ihrem Verlauf ist weiterhin lesbar. Strongroom hat nichts gelöscht: Die Verlaufsdatei auf diesem Computer wurde außerhalb der App verändert, etwa durch das Wiederherstellen einer Sicherung, einen Festplattenfehler oder eine Person mit Zugriff auf diesen Computer. Wenn Sie das nicht erwartet haben, wenden Sie sich an { $bank } und weisen Sie auf diese Warnung hin.
damage-advice-unknown = Alles andere in Ihrem Verlauf ist weiterhin lesbar. Strongroom hat nichts gelöscht: Die Verlaufsdatei auf diesem Computer wurde außerhalb der App verändert, etwa durch das Wiederherstellen einer Sicherung, einen Festplattenfehler oder eine Person mit Zugriff auf diesen Computer. Wenn Sie das nicht erwartet haben, wenden Sie sich an Ihre Bank und weisen Sie auf diese Warnung hin.
