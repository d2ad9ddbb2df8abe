# Fehler: eine Meldung je Code, den der App-Kern sendet (ErrorCode in
# crates/client/src/error.rs), als error-<code>; jeder oauth_*-Code ist
# error-oauth. Die Variablen sind die Werte, die der Code mitsendet: keine
# anderen verwenden.

## Der Schlüsselbund des Systems

error-keychain_missing = Strongroom bewahrt Ihre Bankzugangsdaten ausschließlich im Schlüsselbund Ihres Systems auf, und es läuft keiner. Installieren und starten Sie unter Linux einen Secret-Service-Anbieter wie GNOME Keyring (Paket gnome-keyring) oder KeePassXC mit aktiviertem Secret Service, und starten Sie Strongroom dann neu. Ihre Nachrichten und Verknüpfungen bleiben unverändert.
error-keychain_locked = Der Schlüsselbund Ihres Systems ist gesperrt. Entsperren Sie ihn (unter Linux in „Passwörter und Verschlüsselung“ den Schlüsselbund „Anmeldung“; unter macOS in der Schlüsselbundverwaltung) und versuchen Sie es erneut. Es ging nichts verloren.
error-keychain_denied = Der Schlüsselbund Ihres Systems hat Strongroom den Zugriff verweigert. Erlauben Sie Strongroom den Zugriff, wenn der Schlüsselbund danach fragt, oder prüfen Sie die Einstellungen Ihrer Sandbox bzw. des Schlüsselbunds, und versuchen Sie es dann erneut. Es ging nichts verloren.
error-keychain_entry_too_long = Der Schlüsselbund Ihres Systems kann keinen so großen Eintrag aufnehmen, wie Strongroom ihn benötigt. Bitte melden Sie dies dem Strongroom-Support. Es wurde nichts an anderer Stelle gespeichert.
error-keychain_corrupted = Der Schlüsselbund Ihres Systems hat andere Daten zurückgegeben, als Strongroom gespeichert hat. Prüfen Sie den Schlüsselbund (unter Linux: GNOME Keyring neu starten) und versuchen Sie es dann erneut.
error-keychain_failed = Der Schlüsselbund Ihres Systems hat einen Fehler gemeldet. Melden Sie sich ab und wieder an und versuchen Sie es dann erneut; falls der Fehler bestehen bleibt, wenden Sie sich an den Strongroom-Support. Es ging nichts verloren.
error-keychain_timeout = Der Schlüsselbund Ihres Systems hat nicht innerhalb von { $seconds } Sekunden geantwortet. Möglicherweise ist er gesperrt und wartet darauf, dass Sie ihn entsperren, oder sein Dienst hängt. Entsperren Sie Ihren Schlüsselbund (unter GNOME: „Passwörter und Verschlüsselung“; unter KDE: KWallet) oder melden Sie sich ab und wieder an, und versuchen Sie es dann erneut. Es wurde nichts geschrieben.

## Der verschlüsselte Verlauf auf diesem Gerät

error-store_tampered = Ein Teil Ihres Verlaufs auf diesem Gerät hat die Integritätsprüfung nicht bestanden: Er wurde außerhalb von Strongroom beschädigt oder verändert und wird daher nicht angezeigt. Der übrige Verlauf ist nicht betroffen.
error-store_account_locked = Der Verlauf dieses Kontos kann nicht geöffnet werden, weil sein Schlüssel nicht geladen ist. Starten Sie Strongroom neu; falls der Fehler bestehen bleibt, heben Sie die Verknüpfung des Kontos auf und verknüpfen Sie es erneut, um seinen Verlauf von der Bank abzurufen.
error-store_wrong_key = Der Schlüssel passt nicht zum Verlauf dieses Kontos, daher kann der Verlauf nicht geöffnet werden. Es wurde nichts verändert. Heben Sie die Verknüpfung des Kontos auf und verknüpfen Sie es erneut, um seinen Verlauf von der Bank abzurufen.
error-store_unknown_account = Dieses Konto ist auf diesem Gerät nicht verknüpft.
error-store_not_found = Dieser Eintrag ist nicht mehr in Ihrem Verlauf.
error-store_missing_key_version = Ein Teil Ihres Verlaufs ist mit einem Schlüssel gesichert, den der Schlüsselbund Ihres Systems nicht mehr enthält, und kann daher nicht angezeigt werden. Es wurde nichts verändert. Falls Sie Ihren Schlüsselbund wiederhergestellt oder zurückgesetzt haben, stellen Sie die Einträge von Strongroom darin wieder her.
error-store_wrong_master_key = Der Schlüsselbund Ihres Systems enthält einen anderen Schlüssel als den, mit dem Ihr Verlauf gespeichert wurde (möglicherweise wurde der Schlüsselbund zurückgesetzt oder ersetzt). Strongroom hat nichts gelesen und nichts verändert. Stellen Sie den Schlüsselbund-Eintrag „store/master-key“ des Dienstes „strongroom“ wieder her, oder verschieben Sie den Datenordner von Strongroom und verknüpfen Sie Ihre Banken erneut.
error-store_bad_master_key = Der Schlüssel von Strongroom im Schlüsselbund Ihres Systems ist beschädigt, daher kann Ihr Verlauf nicht geöffnet werden. Es wurde nichts verändert. Stellen Sie den Schlüsselbund-Eintrag „store/master-key“ des Dienstes „strongroom“ aus einer Sicherung wieder her oder wenden Sie sich an den Strongroom-Support.
error-store_bad_anchor = Ein Eintrag, den Strongroom zum Schutz Ihres Verlaufs im Schlüsselbund Ihres Systems aufbewahrt, ist beschädigt. Es wurde nichts verändert. Wenden Sie sich an den Strongroom-Support.
error-store_newer_schema = Ihr Verlauf wurde von einer neueren Version von Strongroom gespeichert. Installieren Sie die neueste Version, um ihn zu öffnen. Es wurde nichts verändert.
error-store_rotation_not_forward = Der Schlüsselwechsel wurde nicht durchgeführt: Der neue Schlüssel ist nicht neuer als der aktuelle. Es wurde nichts verändert, und Ihr Verlauf bleibt lesbar.
error-store_in_use = Strongroom ist bereits in einem anderen Fenster oder Prozess geöffnet. Schließen Sie es und versuchen Sie es dann erneut.
error-store_io = Strongroom konnte eine Datei in seinem Datenordner nicht verwenden. Prüfen Sie, ob der Datenträger voll ist und ob Sie dort schreiben dürfen, und versuchen Sie es dann erneut.
error-store_random_failed = Der Zufallszahlengenerator Ihres Computers ist ausgefallen, daher wurde nichts geschrieben. Starten Sie Strongroom neu und versuchen Sie es erneut.
error-store_database = Strongroom konnte seine Datenbank nicht lesen oder schreiben: Möglicherweise ist der Datenträger voll oder die Datei beschädigt. Geben Sie Speicherplatz frei und versuchen Sie es erneut; falls der Fehler bestehen bleibt, wenden Sie sich an den Strongroom-Support.

## Signierte Daten der Bank

error-too_large = Daten Ihrer Bank waren größer, als Strongroom annimmt, und wurden daher abgelehnt. Falls dies wieder vorkommt, informieren Sie Ihre Bank.
error-malformed = Daten Ihrer Bank hatten nicht das erwartete Format und wurden daher abgelehnt. Falls dies wieder vorkommt, informieren Sie Ihre Bank.
error-unsupported_algorithm = Daten Ihrer Bank waren auf eine Weise signiert, die Strongroom nicht akzeptiert, und wurden daher abgelehnt. Falls dies wieder vorkommt, informieren Sie Ihre Bank.
error-forbidden_header = Daten Ihrer Bank trugen eine Signatur, die Strongroom nicht akzeptiert, und wurden daher abgelehnt. Falls dies wieder vorkommt, informieren Sie Ihre Bank.
error-wrong_type = Daten Ihrer Bank waren nicht von der Art, die hier erwartet wird, und wurden daher abgelehnt. Falls dies wieder vorkommt, informieren Sie Ihre Bank.
error-unknown_key = Daten, die angeblich von Ihrer Bank stammen, waren mit einem Schlüssel signiert, den Strongroom für diese Bank nicht kennt, und wurden daher abgelehnt.
error-bad_signature = Die Signatur von Daten, die angeblich von Ihrer Bank stammen, stimmt nicht; die Daten wurden daher abgelehnt. Möglicherweise wurden sie verändert.
error-bad_key = Ihre Bank hat einen Signaturschlüssel übermittelt, den Strongroom nicht verwenden kann; ihre Daten wurden daher abgelehnt. Falls dies wieder vorkommt, informieren Sie Ihre Bank.
error-unknown_issuer = Die Daten nennen eine andere Bank als die verknüpfte und wurden daher abgelehnt.
error-replayed = Diese Meldung wurde bereits empfangen; die Kopie wurde ignoriert.
error-wrong_audience = Diese Meldung ist an einen anderen Kunden gerichtet und wurde daher abgelehnt.
error-issued_in_future = Daten Ihrer Bank tragen ein Datum in der Zukunft und wurden daher abgelehnt. Prüfen Sie, ob die Uhr Ihres Computers richtig geht.
error-too_old = Daten Ihrer Bank sind zu alt, um ihnen zu vertrauen, und wurden daher abgelehnt. Prüfen Sie, ob die Uhr Ihres Computers richtig geht.
error-stale_rotation = Ein Wechsel der Signaturschlüssel Ihrer Bank schließt nicht an die Schlüssel an, denen Strongroom für diese Bank vertraut, und wurde daher abgelehnt.
error-expired = Die signierte Mitteilung Ihrer Bank zu einem Anruf ist abgelaufen. Prüfen Sie, ob die Uhr Ihres Computers richtig geht.
error-call_ended = Ihre Bank hat diesen Anruf bereits beendet; die Mitteilung, er sei noch aktiv, wurde ignoriert.
error-broken_key_chain = Die Kette der Signaturschlüssel Ihrer Bank ist unterbrochen, daher konnten die damit signierten Daten nicht geprüft werden.

## Die Bank und die Verknüpfung

error-data_folder = Strongroom konnte seinen Datenordner { $path } nicht anlegen. Prüfen Sie, ob Sie dort schreiben dürfen und ob der Datenträger voll ist, und versuchen Sie es dann erneut.
error-master_key_missing = Der Schlüsselbund Ihres Systems enthält keinen Schlüssel für den Verlauf, den Strongroom in { $path } aufbewahrt. Strongroom hat ihn nicht angetastet. Falls Sie Ihren Schlüsselbund wiederhergestellt oder zurückgesetzt haben, stellen Sie dessen Eintrag „store/master-key“ des Dienstes „strongroom“ wieder her; andernfalls verschieben Sie diesen Ordner und verknüpfen Sie Ihre Banken erneut.
error-rotation_incomplete = { $count ->
        [one] Ein Eintrag in Ihrem Verlauf konnte nicht mit dem neuen Schlüssel gesichert werden. Strongroom behält dafür den älteren Schlüssel, es ging also nichts verloren.
       *[other] { $count } Einträge in Ihrem Verlauf konnten nicht mit dem neuen Schlüssel gesichert werden. Strongroom behält dafür den älteren Schlüssel, es ging also nichts verloren.
    }
error-account_key_missing = Der Schlüsselbund Ihres Systems enthält keinen Schlüssel für eines Ihrer verknüpften Konten, daher kann dessen Verlauf auf diesem Gerät nicht gelesen werden. Heben Sie die Verknüpfung des Kontos auf und verknüpfen Sie es erneut, um seinen Verlauf von der Bank abzurufen.
error-network = Strongroom konnte { $host } nicht erreichen. Prüfen Sie Ihre Internetverbindung und versuchen Sie es dann erneut.
error-tls = Strongroom konnte keine sichere Verbindung zu Ihrer Bank aufbauen, daher wurde nichts gesendet. Falls dies wieder vorkommt, wenden Sie sich an den Strongroom-Support.
error-bank_protocol = Die Antwort Ihrer Bank konnte nicht verwendet werden. Versuchen Sie es später erneut; falls der Fehler bestehen bleibt, informieren Sie Ihre Bank.
error-refused = Ihre Bank hat die Anfrage abgelehnt (Fehler { $status }). Versuchen Sie es später erneut; falls der Fehler bestehen bleibt, wenden Sie sich an Ihre Bank.
error-oauth = { $error ->
        [invalid_client] Der Anmeldedienst Ihrer Bank erlaubt der Strongroom-App diese Art der Verknüpfung nicht. Ihre Bank muss die App für den Device Grant mit DPoP-gebundenen Tokens registrieren; bitte informieren Sie Ihre Bank.
        [unauthorized_client] Der Anmeldedienst Ihrer Bank erlaubt der Strongroom-App diese Art der Verknüpfung nicht. Ihre Bank muss die App für den Device Grant mit DPoP-gebundenen Tokens registrieren; bitte informieren Sie Ihre Bank.
        [invalid_scope] Der Anmeldedienst Ihrer Bank bietet nicht an, was Strongroom anfragt (Meldungen und Chat). Ihre Bank muss beides für die App freischalten; bitte informieren Sie Ihre Bank.
        [invalid_target] Der Anmeldedienst Ihrer Bank gewährt keinen Zugang zum Strongroom-Server Ihrer Bank. Ihre Bank muss diesen Server registrieren; bitte informieren Sie Ihre Bank.
        [invalid_dpop_proof] Der Anmeldedienst Ihrer Bank hat den Schlüsselnachweis dieses Geräts nicht akzeptiert. Prüfen Sie, ob die Uhr Ihres Computers richtig geht, und versuchen Sie es dann erneut.
        [use_dpop_nonce] Der Anmeldedienst Ihrer Bank hat den Schlüsselnachweis dieses Geräts nicht akzeptiert. Prüfen Sie, ob die Uhr Ihres Computers richtig geht, und versuchen Sie es dann erneut.
        [invalid_grant] Ihre Bank akzeptiert diese Verknüpfung nicht mehr. Verknüpfen Sie das Konto erneut.
        [access_denied] Die Verknüpfung wurde bei Ihrer Bank abgelehnt. Beginnen Sie erneut, um es noch einmal zu versuchen.
        [expired_token] Der Verknüpfungscode ist abgelaufen, bevor er bestätigt wurde. Beginnen Sie die Verknüpfung erneut.
        [temporarily_unavailable] Der Anmeldedienst Ihrer Bank ist derzeit nicht verfügbar. Versuchen Sie es in einigen Minuten erneut.
        [server_error] Der Anmeldedienst Ihrer Bank ist derzeit nicht verfügbar. Versuchen Sie es in einigen Minuten erneut.
       *[other] Der Anmeldedienst Ihrer Bank hat einen Fehler gemeldet ({ $error }). Falls dies wieder vorkommt, informieren Sie Ihre Bank und nennen Sie diesen Code.
    }
error-link_expired = Der Verknüpfungscode ist abgelaufen, bevor er bestätigt wurde. Beginnen Sie die Verknüpfung erneut.
error-link_denied = Die Verknüpfung wurde bei Ihrer Bank abgelehnt. Es wurde nichts verknüpft.
error-link_revoked = Ihre Bank akzeptiert die Verknüpfung dieses Geräts nicht mehr. Verknüpfen Sie das Konto erneut.
error-no_refresh_token = Der Anmeldedienst Ihrer Bank erlaubt Strongroom nicht, verknüpft zu bleiben: Die Verknüpfung würde nach wenigen Minuten enden und wurde daher nicht eingerichtet. Ihre Bank muss für die Strongroom-App Refresh-Tokens erlauben (den Scope offline_access); bitte informieren Sie Ihre Bank.
error-not_linked = Dieses Konto ist auf diesem Gerät nicht verknüpft.
error-unknown_alert = Diese Betrugsprüfung gibt es für dieses Konto nicht mehr.
error-already_answered = { $answer ->
    [me] Diese Prüfung wurde bereits auf einem anderen Ihrer Geräte bestätigt.
   *[not_me] Diese Prüfung wurde bereits auf einem anderen Ihrer Geräte als Betrug gemeldet. Die Meldung bleibt bei der Bank: Falls das ein Irrtum war, wenden Sie sich an Ihre Bank.
}
error-call_verified = { $agent } von Ihrer Bank ruft Sie gerade an, und Strongroom hat das verifiziert: Dies ist kein Betrugsanruf.
error-bad_transcript = Diese Datei ist kein verwendbares Strongroom-Protokoll, oder ihre Teile widersprechen einander.
error-not_vouched_by_bank = { $issuer } steht nicht für dieses Protokoll ein: Es ist nicht vollständig mit Schlüsseln signiert, für die diese Bank einsteht. Verlassen Sie sich nicht darauf als Nachweis dieser Bank.
error-export = Strongroom konnte { $path } nicht schreiben. Es wurde nichts überschrieben. Prüfen Sie, ob Sie dort schreiben dürfen und ob der Datenträger voll ist, und versuchen Sie es dann erneut.

## Die App

error-locked = Strongroom ist gesperrt. Entsperren Sie die App und versuchen Sie es dann erneut.
error-not_ready = Strongroom wird noch gestartet. Versuchen Sie es gleich noch einmal.
error-wrong_passphrase = Dieses Passwort ist nicht richtig. Bitte versuchen Sie es erneut.
error-weak_passphrase = Verwenden Sie für das Passwort mindestens { $minimum } Zeichen.
error-bad_answer = Strongroom hat diese Antwort nicht verstanden. Wählen Sie eine der angezeigten Antworten.
error-link_cancelled = Die Verknüpfung wurde abgebrochen. Es wurde nichts verknüpft.
error-settings = Ihre Einstellungen konnten nicht gespeichert werden. Prüfen Sie, ob der Datenträger voll ist, und versuchen Sie es dann erneut.
error-random = Der Zufallszahlengenerator Ihres Computers ist ausgefallen, daher wurde nichts ausgeführt. Starten Sie Strongroom neu und versuchen Sie es erneut.

## Updates ($current: die laufende Version)

error-update_unreachable = Der Update-Server war nicht erreichbar oder hat keine gültige Antwort gegeben. Es wurde nichts installiert; Strongroom { $current } läuft weiter.
error-update_insecure = Der Update-Server muss über https erreicht werden. Es wurde nichts installiert; Strongroom { $current } läuft weiter.
error-update_server = Die in STRONGROOM_UPDATE_URL angegebene Adresse des Update-Servers ist ungültig. Es wurde nichts installiert; Strongroom { $current } läuft weiter.
error-update_signature = Das Update wurde abgelehnt: Seine Signatur passt nicht zum Release-Schlüssel von Strongroom, es könnte also verändert worden sein oder nicht von uns stammen. Es wurde nichts installiert; Strongroom { $current } läuft weiter.
error-update_downgrade = Das als { $announced } angebotene Update wurde abgelehnt: Das Paket ist als Version { $signed } signiert, der Update-Server hat also eine ältere Version als neuere angeboten. Es wurde nichts installiert; Strongroom { $current } läuft weiter.
error-update_format = Das Update ist kein Paket, das diese Installation verwenden kann. Es wurde nichts installiert; Strongroom { $current } läuft weiter.
error-update_not_authorised = Für die Installation des Updates ist die Erlaubnis eines Administrators nötig, die nicht erteilt wurde. Es wurde nichts installiert; Strongroom { $current } läuft weiter.
error-update_failed = { $outcome ->
        [unknown] Das Installationsprogramm wurde vorzeitig beendet. Prüfen Sie, welche Version von Strongroom installiert ist, bevor Sie die App neu starten.
       *[unchanged] Das Update ist fehlgeschlagen. Es wurde nichts installiert; Strongroom { $current } läuft weiter.
    }
error-update_none = Es wartet kein Update. Suchen Sie zuerst nach Updates.

## Die eigenen Codes des Fensters (ui/src/ipc/error.ts)

error-no_shell = Das Fenster von Strongroom konnte den App-Kern nicht erreichen. Bitte starten Sie Strongroom neu.
error-unknown = Es ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut.
