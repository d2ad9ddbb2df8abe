# Erreurs : un message par code envoyé par le cœur de l'application (ErrorCode
# dans crates/client/src/error.rs), sous la forme error-<code> ; tous les codes
# oauth_* utilisent error-oauth. Les variables sont les valeurs envoyées avec
# le code : n'en utilisez pas d'autres.

## Le trousseau de clés du système

error-keychain_missing = Strongroom conserve vos identifiants bancaires uniquement dans le trousseau de clés de votre système, et aucun n'est en service. Sous Linux, installez et démarrez un fournisseur Secret Service, comme GNOME Keyring (paquet gnome-keyring) ou KeePassXC avec Secret Service activé, puis redémarrez Strongroom. Vos messages et vos associations restent intacts.
error-keychain_locked = Le trousseau de clés de votre système est verrouillé. Déverrouillez-le (sous Linux, dans « Mots de passe et clés », déverrouillez le trousseau « Connexion » ; sous macOS, dans « Trousseaux d'accès »), puis réessayez. Rien n'a été perdu.
error-keychain_denied = Le trousseau de clés de votre système a refusé l'accès à Strongroom. Autorisez Strongroom lorsque le trousseau le demande, ou vérifiez les réglages de votre bac à sable ou du trousseau, puis réessayez. Rien n'a été perdu.
error-keychain_entry_too_long = Le trousseau de clés de votre système ne peut pas contenir une entrée aussi grande que celle dont Strongroom a besoin. Veuillez le signaler à l'assistance de Strongroom. Rien n'a été enregistré ailleurs.
error-keychain_corrupted = Le trousseau de clés de votre système a renvoyé d'autres données que celles enregistrées par Strongroom. Vérifiez le trousseau (sous Linux, redémarrez GNOME Keyring), puis réessayez.
error-keychain_failed = Le trousseau de clés de votre système a signalé une erreur. Fermez votre session et rouvrez-la, puis réessayez ; si le problème persiste, contactez l'assistance de Strongroom. Rien n'a été perdu.
error-keychain_timeout = Le trousseau de clés de votre système n'a pas répondu dans un délai de { $seconds } secondes. Il est peut-être verrouillé et attend que vous le déverrouilliez, ou son service est bloqué. Déverrouillez votre trousseau (sous GNOME : « Mots de passe et clés » ; sous KDE : KWallet) ou fermez votre session et rouvrez-la, puis réessayez. Rien n'a été écrit.

## L'historique chiffré sur cet appareil

error-store_tampered = Une partie de votre historique sur cet appareil a échoué au contrôle d'intégrité : elle a été endommagée ou modifiée hors de Strongroom et n'est donc pas affichée. Le reste de votre historique n'est pas concerné.
error-store_account_locked = L'historique de ce compte ne peut pas être ouvert, car sa clé n'est pas chargée. Redémarrez Strongroom ; si le problème persiste, dissociez le compte et associez-le à nouveau pour récupérer son historique auprès de la banque.
error-store_wrong_key = La clé ne correspond pas à l'historique de ce compte, qui ne peut donc pas être ouvert. Rien n'a été modifié. Dissociez le compte et associez-le à nouveau pour récupérer son historique auprès de la banque.
error-store_unknown_account = Ce compte n'est pas associé sur cet appareil.
error-store_not_found = Cet élément ne figure plus dans votre historique.
error-store_missing_key_version = Une partie de votre historique est protégée par une clé que le trousseau de votre système ne contient plus ; elle ne peut donc pas être affichée. Rien n'a été modifié. Si vous avez restauré ou réinitialisé votre trousseau, restaurez-y les entrées de Strongroom.
error-store_wrong_master_key = Le trousseau de clés de votre système contient une autre clé que celle avec laquelle votre historique a été enregistré (le trousseau a peut-être été réinitialisé ou remplacé). Strongroom n'a rien lu ni rien modifié. Restaurez l'entrée « store/master-key » du service « strongroom » dans le trousseau, ou déplacez le dossier de données de Strongroom et associez à nouveau vos banques.
error-store_bad_master_key = La clé de Strongroom dans le trousseau de votre système est endommagée ; votre historique ne peut donc pas être ouvert. Rien n'a été modifié. Restaurez l'entrée « store/master-key » du service « strongroom » à partir d'une sauvegarde, ou contactez l'assistance de Strongroom.
error-store_bad_anchor = Une donnée que Strongroom conserve dans le trousseau de votre système pour protéger votre historique est endommagée. Rien n'a été modifié. Contactez l'assistance de Strongroom.
error-store_newer_schema = Votre historique a été enregistré par une version plus récente de Strongroom. Installez la dernière version pour l'ouvrir. Rien n'a été modifié.
error-store_rotation_not_forward = Le changement de clé n'a pas été effectué : la nouvelle clé n'est pas plus récente que la clé actuelle. Rien n'a été modifié et votre historique reste lisible.
error-store_in_use = Strongroom est déjà ouvert dans une autre fenêtre ou un autre processus. Fermez-le, puis réessayez.
error-store_io = Strongroom n'a pas pu utiliser un fichier de son dossier de données. Vérifiez que le disque n'est pas plein et que vous pouvez y écrire, puis réessayez.
error-store_random_failed = Le générateur de nombres aléatoires de votre ordinateur a échoué ; rien n'a donc été écrit. Redémarrez Strongroom et réessayez.
error-store_database = Strongroom n'a pas pu lire ou écrire sa base de données : le disque est peut-être plein ou le fichier endommagé. Libérez de l'espace disque et réessayez ; si le problème persiste, contactez l'assistance de Strongroom.

## Données signées par la banque

error-too_large = Des données de votre banque dépassaient la taille acceptée par Strongroom et ont donc été refusées. Si cela se reproduit, informez-en votre banque.
error-malformed = Des données de votre banque n'avaient pas la forme attendue et ont donc été refusées. Si cela se reproduit, informez-en votre banque.
error-unsupported_algorithm = Des données de votre banque étaient signées d'une manière que Strongroom n'accepte pas et ont donc été refusées. Si cela se reproduit, informez-en votre banque.
error-forbidden_header = Des données de votre banque portaient une signature que Strongroom n'accepte pas et ont donc été refusées. Si cela se reproduit, informez-en votre banque.
error-wrong_type = Des données de votre banque n'étaient pas du type attendu ici et ont donc été refusées. Si cela se reproduit, informez-en votre banque.
error-unknown_key = Des données se présentant comme venant de votre banque étaient signées avec une clé que Strongroom ne connaît pas pour cette banque ; elles ont donc été refusées.
error-bad_signature = La signature de données se présentant comme venant de votre banque ne correspond pas ; elles ont donc été refusées, car elles ont peut-être été modifiées.
error-bad_key = Votre banque a fourni une clé de signature que Strongroom ne peut pas utiliser ; ses données ont donc été refusées. Si cela se reproduit, informez-en votre banque.
error-unknown_issuer = Les données désignent une autre banque que celle associée et ont donc été refusées.
error-replayed = Cette alerte a déjà été reçue ; la copie a été ignorée.
error-wrong_audience = Cette alerte est adressée à un autre client et a donc été refusée.
error-issued_in_future = Des données de votre banque sont datées dans le futur et ont donc été refusées. Vérifiez que l'horloge de votre ordinateur est à l'heure.
error-too_old = Des données de votre banque sont trop anciennes pour être fiables et ont donc été refusées. Vérifiez que l'horloge de votre ordinateur est à l'heure.
error-stale_rotation = Un changement des clés de signature de votre banque ne fait pas suite aux clés auxquelles Strongroom se fie pour elle ; il a donc été refusé.
error-expired = La déclaration signée de votre banque au sujet d'un appel a expiré. Vérifiez que l'horloge de votre ordinateur est à l'heure.
error-call_ended = Votre banque a déjà mis fin à cet appel ; la déclaration indiquant qu'il est toujours en cours a été ignorée.
error-broken_key_chain = La chaîne des clés de signature de votre banque est rompue ; les données signées avec ces clés n'ont donc pas pu être vérifiées.

## La banque et l'association

error-data_folder = Strongroom n'a pas pu créer son dossier de données { $path }. Vérifiez que vous pouvez y écrire et que le disque n'est pas plein, puis réessayez.
error-master_key_missing = Le trousseau de clés de votre système ne contient aucune clé pour l'historique que Strongroom conserve dans { $path }. Strongroom n'y a pas touché. Si vous avez restauré ou réinitialisé votre trousseau, restaurez-y l'entrée « store/master-key » du service « strongroom » ; sinon, déplacez ce dossier et associez à nouveau vos banques.
error-rotation_incomplete = { $count ->
        [one] Un élément de votre historique n'a pas pu être protégé par la nouvelle clé. Strongroom conserve l'ancienne clé pour cet élément : rien n'a donc été perdu.
       *[other] { $count } éléments de votre historique n'ont pas pu être protégés par la nouvelle clé. Strongroom conserve l'ancienne clé pour ces éléments : rien n'a donc été perdu.
    }
error-account_key_missing = Le trousseau de clés de votre système ne contient aucune clé pour l'un de vos comptes associés ; son historique ne peut donc pas être lu sur cet appareil. Dissociez le compte et associez-le à nouveau pour récupérer son historique auprès de la banque.
error-network = Strongroom n'a pas pu joindre { $host }. Vérifiez votre connexion Internet, puis réessayez.
error-tls = Strongroom n'a pas pu établir de connexion sécurisée avec votre banque ; rien n'a donc été envoyé. Si cela se reproduit, contactez l'assistance de Strongroom.
error-bank_protocol = La réponse de votre banque n'a pas pu être utilisée. Réessayez plus tard ; si le problème persiste, informez-en votre banque.
error-refused = Votre banque a refusé la demande (erreur { $status }). Réessayez plus tard ; si le problème persiste, contactez votre banque.
error-oauth = { $error ->
        [invalid_client] Le service de connexion de votre banque ne permet pas à l'application Strongroom de s'associer de cette manière. Votre banque doit enregistrer l'application pour le « device grant » avec des jetons liés par DPoP ; veuillez en informer votre banque.
        [unauthorized_client] Le service de connexion de votre banque ne permet pas à l'application Strongroom de s'associer de cette manière. Votre banque doit enregistrer l'application pour le « device grant » avec des jetons liés par DPoP ; veuillez en informer votre banque.
        [invalid_scope] Le service de connexion de votre banque ne propose pas ce que Strongroom demande (alertes et messagerie). Votre banque doit les activer pour l'application ; veuillez en informer votre banque.
        [invalid_target] Le service de connexion de votre banque ne donne pas accès au serveur Strongroom de votre banque. Votre banque doit enregistrer ce serveur ; veuillez en informer votre banque.
        [invalid_dpop_proof] Le service de connexion de votre banque n'a pas accepté la preuve de clé de cet appareil. Vérifiez que l'horloge de votre ordinateur est à l'heure, puis réessayez.
        [use_dpop_nonce] Le service de connexion de votre banque n'a pas accepté la preuve de clé de cet appareil. Vérifiez que l'horloge de votre ordinateur est à l'heure, puis réessayez.
        [invalid_grant] Votre banque n'accepte plus cette association. Associez à nouveau le compte.
        [access_denied] L'association a été refusée auprès de votre banque. Recommencez pour réessayer.
        [expired_token] Le code d'association a expiré avant d'être approuvé. Recommencez l'association.
        [temporarily_unavailable] Le service de connexion de votre banque n'est pas disponible pour le moment. Réessayez dans quelques minutes.
        [server_error] Le service de connexion de votre banque n'est pas disponible pour le moment. Réessayez dans quelques minutes.
       *[other] Le service de connexion de votre banque a signalé une erreur ({ $error }). Si cela se reproduit, informez-en votre banque en indiquant ce code.
    }
error-link_expired = Le code d'association a expiré avant d'être approuvé. Recommencez l'association.
error-link_denied = L'association a été refusée auprès de votre banque. Rien n'a été associé.
error-link_revoked = Votre banque n'accepte plus l'association de cet appareil. Associez à nouveau le compte.
error-no_refresh_token = Le service de connexion de votre banque ne permet pas à Strongroom de rester associé : l'association prendrait fin au bout de quelques minutes et n'a donc pas été établie. Votre banque doit autoriser les jetons d'actualisation (le scope offline_access) pour l'application Strongroom ; veuillez en informer votre banque.
error-not_linked = Ce compte n'est pas associé sur cet appareil.
error-unknown_alert = Ce contrôle de fraude ne figure plus sur ce compte.
error-already_answered = { $answer ->
    [me] Ce contrôle a déjà été confirmé depuis un autre de vos appareils.
   *[not_me] Ce contrôle a déjà été signalé comme une fraude depuis un autre de vos appareils. Le signalement reste auprès de la banque : s'il s'agit d'une erreur, contactez-la.
}
error-call_verified = { $agent }, de votre banque, vous appelle en ce moment, et Strongroom l'a vérifié : il ne s'agit pas d'un appel frauduleux.
error-bad_transcript = Ce fichier n'est pas un relevé Strongroom utilisable, ou ses parties se contredisent.
error-not_vouched_by_bank = { $issuer } ne se porte pas garant de ce relevé : il n'est pas entièrement signé avec des clés que cette banque reconnaît. Ne vous y fiez pas comme document de cette banque.
error-export = Strongroom n'a pas pu écrire { $path }. Rien n'a été écrasé. Vérifiez que vous pouvez y écrire et que le disque n'est pas plein, puis réessayez.

## L'application

error-locked = Strongroom est verrouillé. Déverrouillez-le, puis réessayez.
error-not_ready = Strongroom est encore en cours de démarrage. Réessayez dans un instant.
error-wrong_passphrase = Ce mot de passe est incorrect. Veuillez réessayer.
error-weak_passphrase = Utilisez au moins { $minimum } caractères pour le mot de passe.
error-bad_answer = Strongroom n'a pas compris cette réponse. Choisissez l'une des réponses proposées.
error-link_cancelled = L'association a été annulée. Rien n'a été associé.
error-settings = Vos paramètres n'ont pas pu être enregistrés. Vérifiez que le disque n'est pas plein, puis réessayez.
error-random = Le générateur de nombres aléatoires de votre ordinateur a échoué ; rien n'a donc été effectué. Redémarrez Strongroom et réessayez.

## Mises à jour ($current : la version en cours d'exécution)

error-update_unreachable = Le serveur de mises à jour n'a pas pu être joint ou n'a pas donné de réponse valide. Rien n'a été installé ; Strongroom { $current } continue de fonctionner.
error-update_insecure = Le serveur de mises à jour doit être joint en https. Rien n'a été installé ; Strongroom { $current } continue de fonctionner.
error-update_server = L'adresse du serveur de mises à jour indiquée dans STRONGROOM_UPDATE_URL n'est pas valide. Rien n'a été installé ; Strongroom { $current } continue de fonctionner.
error-update_signature = La mise à jour a été refusée : sa signature ne correspond pas à la clé de publication de Strongroom ; elle a donc pu être modifiée ou ne pas venir de nous. Rien n'a été installé ; Strongroom { $current } continue de fonctionner.
error-update_downgrade = La mise à jour proposée comme version { $announced } a été refusée : le paquet est signé comme version { $signed } ; le serveur de mises à jour a donc présenté une version plus ancienne comme plus récente. Rien n'a été installé ; Strongroom { $current } continue de fonctionner.
error-update_format = La mise à jour n'est pas un paquet utilisable par cette installation. Rien n'a été installé ; Strongroom { $current } continue de fonctionner.
error-update_not_authorised = L'installation de la mise à jour nécessite l'autorisation d'un administrateur, qui n'a pas été donnée. Rien n'a été installé ; Strongroom { $current } continue de fonctionner.
error-update_failed = { $outcome ->
        [unknown] Le programme d'installation s'est arrêté avant la fin. Vérifiez quelle version de Strongroom est installée avant de le redémarrer.
       *[unchanged] La mise à jour a échoué. Rien n'a été installé ; Strongroom { $current } continue de fonctionner.
    }
error-update_none = Aucune mise à jour n'est en attente. Recherchez d'abord des mises à jour.

## Les codes propres à la fenêtre (ui/src/ipc/error.ts)

error-no_shell = La fenêtre de Strongroom n'a pas pu joindre le cœur de l'application. Veuillez redémarrer Strongroom.
error-unknown = Une erreur s'est produite. Veuillez réessayer.
