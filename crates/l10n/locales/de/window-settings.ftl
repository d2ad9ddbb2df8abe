# Der Bildschirm „Einstellungen“ im Fenster.
settings-title = Einstellungen
# Wird von Screenreadern vorgelesen, nachdem eine Einstellung gespeichert wurde.
settings-saved = Gespeichert

## Sprache
settings-language-title = Sprache
settings-language-label = Sprache der App
settings-language-system = Sprache des Systems verwenden
# Der Name jeder Sprache in ihr selbst: in jedem Katalog gleich.
settings-language-en = English
settings-language-de = Deutsch
settings-language-fr = Français

## Benachrichtigungen
settings-notifications-title = Benachrichtigungen
settings-privacy-legend = Was Desktop-Benachrichtigungen zeigen
settings-privacy-full = Alles anzeigen
    .hint = Bank, Betrag, Händler und Text.
settings-privacy-hide-amounts = Beträge ausblenden
    .hint = Bank und Art der Meldung, ohne Beträge oder Händler.
# „Neue Aktivität“ ist der Text einer solchen Benachrichtigung (notify-new-activity in desktop.ftl).
settings-privacy-nothing = Nichts anzeigen
    .hint = Nur „Neue Aktivität“ von Strongroom.

## Sperre
settings-lock-title = Sperre
settings-auto-lock-label = Automatisch sperren nach (Minuten, 0 = nie)
settings-auto-lock-invalid = Die automatische Sperre muss zwischen 0 (nie) und 1440 Minuten liegen.
settings-lock-now = Jetzt sperren

## App-Passwort
settings-pass-title = App-Passwort
settings-pass-is-set = Ein Passwort ist festgelegt: Strongroom fragt beim Entsperren danach.
settings-pass-not-set = Kein Passwort festgelegt: Jeder, der Ihre Desktop-Sitzung nutzt, kann Strongroom entsperren.
settings-pass-current = Aktuelles Passwort
settings-pass-new = Neues Passwort
settings-pass-confirm = Neues Passwort wiederholen
settings-pass-change = Passwort ändern
settings-pass-set = Passwort festlegen
settings-pass-remove = Passwort entfernen
settings-pass-empty = Geben Sie ein neues Passwort ein.
settings-pass-mismatch = Die beiden neuen Passwörter stimmen nicht überein.
settings-pass-removed = Passwort entfernt.
settings-pass-saved = Passwort gespeichert.
settings-pass-wrong = Ihr aktuelles Passwort ist nicht richtig.

## Verknüpfte Banken
settings-banks-title = Verknüpfte Banken
settings-banks-none = Es ist keine Bank verknüpft.
# $date: wann die Bank verknüpft wurde, bereits formatiert.
settings-bank-linked = verknüpft am { $date }
settings-unlink = Verknüpfung aufheben…

## Dialog „Verknüpfung aufheben“ ($bank: der Name der Bank)
settings-unlink-title = Verknüpfung mit { $bank } aufheben?
settings-unlink-body = Damit wird der Zugriff von Strongroom bei { $bank } widerrufen, und Ihre Nachrichten und Meldungen mit dieser Bank werden von diesem Gerät gelöscht. Das lässt sich nicht rückgängig machen; Sie können die Bank später erneut verknüpfen.
settings-unlink-cancel = Abbrechen
settings-unlink-confirm = Aufheben und löschen
settings-unlink-busy = Wird aufgehoben…

## Export
settings-export-title = Signierte Meldungen exportieren
settings-export-intro = Speichert jede von Ihrer Bank signierte Meldung mit den hinterlegten Schlüsseln der Bank als Datei in Ihrem Ordner „Downloads“.
# $command ist eine Befehlszeile, als Code gezeigt: unverändert lassen.
settings-export-check = Jeder kann sie mit { $command } offline prüfen.
settings-export-account = Zu exportierende Bank
settings-export-start = Protokoll exportieren
settings-export-busy = Wird exportiert…
# $path: der Pfad der Datei, als Code gezeigt.
settings-export-saved-to = Gespeichert unter { $path }

## Updates ($version: eine Versionsnummer wie 0.2.0)
settings-updates-title = Updates
settings-updates-intro = Strongroom installiert ein Update nur, wenn es mit dem Release-Schlüssel von Strongroom signiert ist. Nach Updates sucht es nur, wenn Sie es verlangen.
settings-update-offer = Version { $version } ist verfügbar (Sie haben { $current }).
settings-update-latest = Sie haben die neueste Version ({ $version }).
settings-update-installed = Version { $version } ist installiert. Starten Sie Strongroom neu, um sie zu verwenden.
settings-update-install = { $version } installieren
settings-update-restart = Jetzt neu starten
settings-update-check = Nach Updates suchen

## Datenschutzprotokoll
settings-ledger-title = Datenschutzprotokoll
settings-ledger-intro = Alles, was Strongroom weitergegeben hat, an welche Bank und wann.
settings-ledger-empty = Es wurde nichts weitergegeben.
settings-ledger-when = Wann
settings-ledger-bank = Bank
settings-ledger-what = Was weitergegeben wurde

settings-ledger-linked = Dieses Gerät verknüpft: sein öffentlicher Schlüssel und die Zustimmung zu Meldungen und Chat.
settings-ledger-fraud_answer = { $answer ->
    [me] Ihre Antwort auf eine Betrugsprüfung: Das war ich.
   *[not_me] Ihre Antwort auf eine Betrugsprüfung: Das war ich nicht.
}
settings-ledger-chat_message = { $characters ->
    [one] Eine Chat-Nachricht ({ $characters } Zeichen).
   *[other] Eine Chat-Nachricht ({ $characters } Zeichen).
}
