# L'accueil : les comptes associés, les alertes, si une banque vous appelle, et
# l'avertissement quand l'historique de cet appareil a été endommagé.
# $bank est toujours le nom d'une banque, tel que la banque l'indique.

## Accueil
home-title = Accueil
# Titre lu par les lecteurs d'écran au-dessus des cartes de comptes.
home-accounts-title = Comptes associés
home-empty-title = Aucune banque associée pour l'instant
home-empty-body = Associez votre banque pour recevoir des alertes dont elle peut prouver l'origine et pour échanger avec ses conseillers.
home-link = Associer une banque
home-alerts-title = Alertes
# Pastille après le titre « Alertes » : contrôles de fraude sans réponse.
home-pending = { $count } en attente de votre réponse
# Libellé du filtre par banque, suivi de la liste des banques.
home-filter = Afficher
home-filter-all = Toutes les banques
home-no-alerts = Aucune alerte pour l'instant. Les nouvelles alertes de votre banque s'affichent ici dès leur arrivée.
home-more = Afficher les alertes plus anciennes ({ $count } de plus)

## Un compte associé (une carte de l'accueil)
account-connected = En ligne
account-offline = Hors ligne
# $when : une heure (aujourd'hui) ou une date et une heure.
account-balance-at = Solde mis à jour : { $when }
account-no-balance = Pas encore de solde
# Lu pour le graphique du solde : $from et $to sont des montants, $fromDate et $toDate des dates avec heure.
sparkline-balance = Solde passé de { $from } le { $fromDate } à { $to } le { $toDate }
# En gras, suivi de account-damaged.
account-damaged-label = Attention :
account-damaged = une partie de l'historique de cette banque sur cet appareil est endommagée. Voir l'avertissement ci-dessus.
account-not-connected = Pas de connexion à la banque pour le moment.
# Suit la raison pour laquelle la banque est hors ligne.
account-offline-hint = Les nouvelles alertes arriveront au retour de la connexion ; vos messages restent en attente sur cet appareil d'ici là.
account-chat = Discuter avec { $bank }
# Pour les lecteurs d'écran, après le nombre d'alertes non lues (le nombre précède).
account-unread = { $count ->
    [one] alerte non lue
   *[other] alertes non lues
}

## Une alerte
alert-verified-by = Vérifiée par { $bank }
# Info-bulle : $key est la clé de signature de la banque.
alert-signed-with = Signée avec la clé { $key }
alert-severity-critical = Urgent
alert-severity-warning = Important
alert-answer-failed = Votre réponse n'a pas pu être envoyée. Veuillez réessayer.

## Contrôle de fraude : la banque demande si l'opération vient de vous
alert-fraud-question = Est-ce bien vous ?
alert-fraud-me = C'était moi
alert-fraud-not-me = Ce n'était pas moi
alert-fraud-answered-me = Vous avez confirmé être à l'origine de cette opération. Merci.
alert-fraud-answered-not-me = Vous avez indiqué à { $bank } ne pas être à l'origine de cette opération. Votre réponse a été envoyée à la banque depuis cet appareil ; la suite vous sera indiquée dans votre conversation avec elle.

## Alerte en quarantaine : elle n'a pas pu être vérifiée
alert-quarantine-label = Alerte en quarantaine, vérification échouée
alert-quarantine-warning = Cette alerte n'a pas pu être vérifiée et ne provient pas de votre banque. N'y donnez pas suite.
alert-quarantine-show = Afficher les détails
alert-quarantine-hide = Masquer
alert-quarantine-received = Reçue : { $when }.
# Suivi du motif technique (en anglais, non traduit).
alert-quarantine-reason = Motif :
alert-quarantine-content = Contenu non vérifié, affiché tel que reçu :

## Si la banque vous appelle en ce moment, selon la vérification de cet appareil
call-talking-now = Vous parle en ce moment
call-not-calling = Ne vous appelle pas
call-cant-check = Vérification impossible
# $time : une heure.
call-report-received = { $bank } a reçu votre signalement à { $time }. Merci : cela l'aide à arrêter l'appelant.
call-report-open = Signaler un appel frauduleux
call-report-number = Numéro de l'appelant (facultatif)
call-report-note = Qu'a dit l'appelant ? (facultatif)
call-report-too-long = La note est trop longue : { $max } octets au maximum.
call-report-sending = Envoi…
call-report-send = Envoyer à { $bank }
call-report-cancel = Annuler

## Dommages trouvés par le contrôle d'intégrité au déverrouillage
# Titre en gras : $title est damage-title ou damage-title-unknown.
damage-warning = Attention : { $title }
damage-title = Une partie de l'historique de { $bank } sur cet appareil est endommagée
damage-title-unknown = Une partie de l'historique d'une banque sur cet appareil est endommagée
damage-details-summary = Détails pour votre banque
# Remplace $bank ci-dessous quand la banque n'est pas encore connue (après « avec », « de »).
damage-unknown-bank = l'une de vos banques
# $history dans les phrases ci-dessous est l'une de ces deux formes, article compris.
damage-history = l'historique de { $bank }
damage-history-unknown = l'historique de l'une de vos banques
damage-hidden-messages = { $count ->
    [one] { $count } message endommagé de votre conversation avec { $bank } a été masqué.
   *[other] { $count } messages endommagés de votre conversation avec { $bank } ont été masqués.
}
damage-hidden-alerts = { $count ->
    [one] { $count } alerte endommagée dans { $history } a été masquée.
   *[other] { $count } alertes endommagées dans { $history } ont été masquées.
}
damage-hidden-other = { $count ->
    [one] { $count } autre enregistrement endommagé dans { $history } a été masqué.
   *[other] { $count } autres enregistrements endommagés dans { $history } ont été masqués.
}
# $counts dans damage-scope-fewer et damage-scope-more.
damage-scope-counts = Strongroom en avait enregistré { $recorded }, on en compte maintenant { $found }
# Éléments supprimés, ajoutés ou remis à un état antérieur. $table : messages,
# alerts, outbox (messages en attente d'envoi) ou autres données de l'association.
damage-scope-fewer = { $table ->
    [messages] Des messages ont été supprimés ou remis à un état antérieur dans votre conversation avec { $bank } ({ $counts }).
    [alerts] Des alertes ont été supprimées ou remises à un état antérieur dans { $history } ({ $counts }).
    [outbox] Des messages en attente d'envoi ont été supprimés ou remis à un état antérieur dans votre conversation avec { $bank } ({ $counts }).
   *[other] Des données de votre association ont été supprimées ou remises à un état antérieur dans { $history } ({ $counts }).
}
damage-scope-more = { $table ->
    [messages] Des messages ont été ajoutés ou remis à un état antérieur hors de l'application dans votre conversation avec { $bank } ({ $counts }).
    [alerts] Des alertes ont été ajoutées ou remises à un état antérieur hors de l'application dans { $history } ({ $counts }).
    [outbox] Des messages en attente d'envoi ont été ajoutés ou remis à un état antérieur hors de l'application dans votre conversation avec { $bank } ({ $counts }).
   *[other] Des données de votre association ont été ajoutées ou remises à un état antérieur hors de l'application dans { $history } ({ $counts }).
}
damage-scope-older = { $table ->
    [messages] Les messages de votre conversation avec { $bank } ont été remis à une version antérieure.
    [alerts] Les alertes dans { $history } ont été remises à une version antérieure.
    [outbox] Les messages en attente d'envoi de votre conversation avec { $bank } ont été remis à une version antérieure.
   *[other] Les données de votre association dans { $history } ont été remises à une version antérieure.
}
damage-scope-outbox-hint = Vérifiez votre conversation et renvoyez ce qui manque.
damage-alarm-head-forged = L'enregistrement qui permet à Strongroom de vérifier { $history } a été modifié hors de l'application : des messages ou alertes supprimés pourraient donc passer inaperçus.
damage-alarm-head-missing = L'enregistrement qui permet à Strongroom de vérifier { $history } a été retiré du fichier : des messages ou alertes supprimés pourraient donc passer inaperçus.
damage-alarm-rolled-back = Le fichier d'historique de { $bank } sur cet appareil est une copie plus ancienne que celle utilisée en dernier par Strongroom : des messages et alertes arrivés depuis peuvent manquer.
damage-found = Strongroom a détecté des données endommagées dans { $history }.
damage-advice = Le reste de votre historique est toujours lisible. Strongroom n'a rien supprimé : le fichier d'historique de cet ordinateur a été modifié hors de l'application, par exemple par la restauration d'une sauvegarde, une erreur de disque ou une personne ayant accès à cet ordinateur. Si vous ne vous y attendiez pas, contactez { $bank } en mentionnant cet avertissement.
damage-advice-unknown = Le reste de votre historique est toujours lisible. Strongroom n'a rien supprimé : le fichier d'historique de cet ordinateur a été modifié hors de l'application, par exemple par la restauration d'une sauvegarde, une erreur de disque ou une personne ayant accès à cet ordinateur. Si vous ne vous y attendiez pas, contactez votre banque en mentionnant cet avertissement.
