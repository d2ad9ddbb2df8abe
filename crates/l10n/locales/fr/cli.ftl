# La sortie texte de strongroom-cli (pas --json, qui reste lisible par les
# machines, ni --help, que clap écrit en anglais). Les noms de banque, codes,
# URL, identifiants et les mots de la banque arrivent dans ces messages comme
# valeurs. Espace insécable avant « : », « ; », « ? » et « ! ».

## Général
# Sépare les éléments d'une liste : empreintes de clés.
cli-list-separator = {", "}
# Chaque ligne écrite sur stderr commence par le nom du programme.
cli-error = strongroom-cli: { $message } ({ $code })
# Suit une ligne d'erreur : l'erreur dans les mots de la partie qui a échoué
# (en anglais), avec ce que le catalogue omet : quel fichier, la raison donnée
# par le système.
cli-error-detail = {"  "}(détail technique : { $detail })
cli-cannot-start = strongroom-cli: impossible de démarrer : { $error }
cli-file-error = strongroom-cli: { $path } : { $error }
# Le compte nommé quand aucun compte n'est associé.
cli-none-linked = (aucun compte associé)
cli-several-match = { $name } : plusieurs comptes correspondent ; utilisez l'identifiant du compte

## Dommages à l'historique chiffré constatés au déverrouillage (avertissement sur stderr)
# $findings est une liste des messages ci-dessous, séparés par cli-damage-separator.
cli-damage = avertissement : compte { $account } : { $findings } ; le reste de l'historique est lisible
cli-damage-separator = {"\u00A0; "}
cli-damage-rows =
    { $rows ->
        [one] { $rows } enregistrement endommagé masqué
       *[other] { $rows } enregistrements endommagés masqués
    } ({ $messages ->
        [one] { $messages } message
       *[other] { $messages } messages
    }, { $alerts ->
        [one] { $alerts } alerte
       *[other] { $alerts } alertes
    })
cli-damage-conversation =
    conversation { $conversation } : { $recorded ->
        [one] { $recorded } enregistrement consigné
       *[other] { $recorded } enregistrements consignés
    }, { $found } présents, ou enregistrements ramenés à un état antérieur
# $table est le nom de la table dans la base (alerts, messages…), non traduit.
cli-damage-table =
    { $table } : { $recorded ->
        [one] { $recorded } enregistrement consigné
       *[other] { $recorded } enregistrements consignés
    }, { $found } présents, ou enregistrements ramenés à un état antérieur
cli-damage-rolled-back = le fichier de la base de données est une copie plus ancienne (écriture { $found }, le trousseau de clés connaît l'écriture { $anchored })
cli-damage-head-forged = l'empreinte d'intégrité de l'historique a été modifiée
cli-damage-head-missing = l'empreinte d'intégrité de l'historique a été supprimée

## link, accounts, unlink
# $scope est le nom des autorisations tel qu'envoyé (alerts chat), non traduit.
cli-link-pending =
    Pour associer { $bank }, ouvrez { $url }
    et confirmez le code { $code }
    { $bank } partagera avec cet appareil : { $scope } (alertes, et chat avec ses conseillers).
    En attente de votre validation…
cli-linked = { $bank } est associé en tant que compte { $account }.
# Une ligne de `accounts` : identifiant du compte, nom de la banque, URL de l'émetteur.
cli-account = { $account }  { $bank }  { $issuer }
cli-unlinked = Association avec { $bank } supprimée : la banque a révoqué cet appareil et les données de ce compte sur cet appareil sont effacées.
cli-unlinked-not-revoked = Association avec { $bank } supprimée : les données de ce compte sur cet appareil sont effacées, mais la banque n'a pas pu être jointe pour révoquer l'association ; révoquez cet appareil dans votre banque en ligne.

## Alertes
cli-badge-verified = [vérifié : { $bank }]
cli-badge-quarantined = [QUARANTAINE : non vérifiée, ne provient pas de votre banque]
cli-answered-me = (réponse : c'était moi)
cli-answered-not-me = (réponse : ce n'était pas moi)
cli-awaiting-answer = (en attente de votre réponse)
# Une alerte : $badge (ci-dessus), $kind (le type d'alerte), $text (les mots
# de la banque), $amount (au format du client), $answer (ci-dessus) et $id
# (pour `answer`).
cli-alert = { $badge } { $kind } { $text }  id={ $id }
cli-alert-amount = { $badge } { $kind } { $text } { $amount }  id={ $id }
cli-alert-answer = { $badge } { $kind } { $text } { $answer }  id={ $id }
cli-alert-amount-answer = { $badge } { $kind } { $text } { $amount } { $answer }  id={ $id }
cli-answered = Votre réponse a été envoyée à { $bank } et enregistrée.

## chat
cli-chat-sent = Envoyé.
cli-chat-queued = En file d'attente : le message sera envoyé dès que la banque sera joignable (lancez `watch`).

## watch : une ligne par événement
cli-watching =
    Réception en direct pour { $count ->
        [one] { $count } compte associé
       *[other] { $count } comptes associés
    }. Ctrl+C pour arrêter.
cli-event-chat = [chat] { $author } : { $body }
cli-event-chat-own = [chat] (vous, autre appareil) { $author } : { $body }
cli-event-connected = [connecté] { $bank }
# $reason est l'erreur de connexion, telle que le système la donne.
cli-event-disconnected = [déconnecté] { $reason } ; nouvelle tentative dans { $ms } ms
cli-event-bank-closed = la banque a fermé la connexion
cli-event-chat-accepted = [chat] votre message est parvenu à la banque
cli-event-flags = [fonctions pilotes] { $flags }
cli-event-keys-rotated = [clés] la banque a renouvelé ses clés de signature (version { $version })
cli-event-revoked = [révoqué] { $bank } n'accepte plus cet appareil

## call-status et report-scam-call
cli-call-talking = [vous parle en ce moment] { $agent }, { $bank }, motif : { $reason }, depuis { $time }
cli-call-not-calling = [ne vous appelle pas] { $bank } ne vous appelle pas. Si quelqu'un prétend le contraire, raccrochez.
cli-call-cant-check = [vérification impossible] Impossible de joindre { $bank } : ne faites confiance à personne qui vous appelle en se présentant comme { $bank }.
cli-call-cant-check-since = [vérification impossible] Impossible de joindre { $bank } depuis { $time } : ne faites confiance à personne qui vous appelle en se présentant comme { $bank }.
# $time est HH:MM (24 heures).
cli-clock = { $time } UTC
# Suit « depuis » dans cli-call-talking quand le début n'est pas connu.
cli-clock-unknown = une heure inconnue
# L'objet de l'appel ($reason dans cli-call-talking, après « motif : »).
cli-scam-report = { $bank } a bien reçu votre signalement. Merci : cela l'aide à arrêter l'appelant.

## export-transcript et verify-transcript
cli-transcript-written =
    { $alerts ->
        [one] { $alerts } alerte
       *[other] { $alerts } alertes
    } et { $rotations ->
        [one] { $rotations } renouvellement de clés
       *[other] { $rotations } renouvellements de clés
    } enregistrés dans { $path }
cli-transcript-unreadable = impossible de lire { $path } : { $error }
cli-transcript-too-large = { $path } est plus volumineux que tout relevé
cli-transcript-failed =
    { $count ->
        [one] { $count } alerte du relevé n'est pas vérifiée
       *[other] { $count } alertes du relevé ne sont pas vérifiées
    }
# $pinned est l'un des trois messages suivants ; $keys une liste de cli-transcript-key.
cli-transcript =
    Relevé (format { $format }) des alertes de { $issuer } pour { $audience }
    Clés épinglées { $pinned } : { $keys }
    Déclarations de renouvellement : { $rotations } (la chaîne est intacte)
    { $verified ->
        [one] { $verified } alerte sur { $alerts } est vérifiée
       *[other] { $verified } alertes sur { $alerts } sont vérifiées
    } avec cette chaîne.
cli-transcript-pinned-format-1 = (format 1 : les clés que liste le fichier, sans chaîne)
cli-transcript-pinned-at-link = lors de l'association
cli-transcript-pinned-at-rotation = au renouvellement { $version }
cli-transcript-key = { $thumbprint } (kid { $kid })
# $reason est le contrôle que l'alerte n'a pas passé, tel que le vérificateur le donne.
cli-transcript-failure = {"  "}l'alerte { $index } N'EST PAS vérifiée : { $reason }
cli-transcript-proves = Ce que cela prouve : { $proves }
# Ce que prouve un relevé. Ne jamais dire que les alertes viennent de la
# banque, sauf dans cli-proves-bank (les clés publiées par la banque
# garantissent chaque alerte).
cli-proves-bank = { $verified } alertes sur { $alerts } sont signées par des clés que { $bank } garantit actuellement : la banque publie les clés { $published } via TLS, et des déclarations de renouvellement signées par ses clés les relient aux clés qui ont signé les alertes. Dans la mesure où ce certificat TLS est digne de confiance, ces alertes proviennent de { $bank } et étaient adressées à { $audience }.
# $whose est l'un des trois messages suivants, $tie est cli-proves-tie.
cli-proves-checked = { $whose }. Destinataire : { $audience }. Seules { $confirmed } alertes sur { $alerts } sont signées par des clés que { $bank } garantit actuellement. { $tie }
cli-proves-offline = { $whose }. Destinataire : { $audience } ({ $verified } sur { $alerts } vérifiées). { $tie }
cli-proves-whose-format-1 = FORMAT 1, AUTONOME : les clés proviennent de ce même fichier, donc cela ne prouve RIEN sur la banque ; n'importe qui peut créer un tel fichier avec sa propre clé. Ces alertes ont été signées par les clés listées dans le fichier
# $prints est une liste de cli-proves-print.
cli-proves-whose-link = Ces alertes ont été signées par les clés que cet appareil a épinglées lors de son association à { $issuer } (empreinte { $prints }), ou par des clés qui leur ont succédé selon les déclarations de renouvellement signées de ce fichier ({ $rotations })
cli-proves-whose-rotation = Ces alertes ont été signées par les clés que cet appareil avait épinglées pour { $issuer } au renouvellement { $version } (empreinte { $prints } ; l'appareil n'a pas conservé la chaîne depuis l'association), ou par des clés qui leur ont succédé selon les déclarations de renouvellement signées de ce fichier ({ $rotations })
cli-proves-print = { $thumbprint } ({ $kid })
# --bank <issuer> est l'option de la commande, non traduite.
cli-proves-tie = Cela ne montre PAS que ces clés appartiennent à la banque : c'est le fichier lui-même qui désigne la banque. Vérifiez avec --bank <issuer> (les clés publiées par la banque, en ligne) ou comparez l'empreinte avec celle que publie la banque.
