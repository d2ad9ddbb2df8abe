# Le cadre de la fenêtre principale, et ce qu'elle dit des événements à leur
# arrivée : bandeaux (notice-), textes pour les lecteurs d'écran (announce-),
# état des appels (app-call-). $bank est toujours le nom d'une banque, tel que la banque l'a donné.

## Cadre
app-opening = Ouverture de votre espace sécurisé…
app-skip-to-content = Aller au contenu
app-lock-now = Verrouiller maintenant
app-dismiss = Fermer
app-store-not-open = L'espace de stockage chiffré de Strongroom n'est pas encore ouvert.

## Navigation
nav-label = Menu principal
nav-home = Accueil
nav-chat = Messagerie
nav-search = Recherche
nav-link = Associer une banque
nav-settings = Paramètres
# Après le nombre sur le bouton Accueil, pour les lecteurs d'écran.
nav-unread = { $count ->
    [one] alerte non lue
   *[other] alertes non lues
}

## Bandeaux
notice-unlinked = Association avec { $bank } supprimée : l'accès a été révoqué auprès de la banque et la copie conservée sur cet appareil a été effacée.
notice-unlinked-not-revoked = Association avec { $bank } supprimée et copie conservée sur cet appareil effacée, mais la banque n'a pas pu être jointe pour révoquer l'accès. Il expirera de lui-même ; vous pouvez aussi le supprimer sur le site de votre banque.
notice-link-ended = { $bank } a mis fin à l'association. Ses messages et alertes ont été supprimés de cet appareil.
notice-link-ended-your-bank = Votre banque a mis fin à l'association. Ses messages et alertes ont été supprimés de cet appareil.

## Lu par les lecteurs d'écran
# $kind : le type d'alerte (kind-* dans kinds.ftl) ; $amount : déjà mis en forme, avec sa devise.
announce-alert = Nouvelle alerte de { $bank } : { $kind }.
announce-alert-amount = Nouvelle alerte de { $bank } : { $kind }, { $amount }.
announce-quarantined = Une alerte reçue n'a pas pu être vérifiée. Elle a été mise en quarantaine.
announce-message = Nouveau message de { $bank }.
announce-message-your-bank = Nouveau message de votre banque.
announce-report-received = { $bank } a reçu votre signalement.
announce-report-received-your-bank = Votre banque a reçu votre signalement.
announce-answer-me = Merci, vous avez confirmé que c'était bien vous.
announce-answer-not-me = Vous avez indiqué à { $bank } que ce n'était pas vous.
announce-linked = Association avec { $bank } effectuée.
# $agent : le nom de la personne qui appelle, tel que la banque l'a donné.
announce-call-started = { $bank } vous appelle en ce moment : { $agent }. Appel vérifié.
announce-call-started-staff = { $bank } vous appelle en ce moment : un conseiller de la banque. Appel vérifié.

## État des appels : est-ce vraiment ma banque qui m'appelle ?
# $agent : qui appelle ; $reason : pourquoi, dans les mots de la banque ; $time : une heure.
app-call-talking = { $agent }, { $bank }, motif : { $reason }
app-call-talking-since = { $agent }, { $bank }, motif : { $reason }, depuis { $time }
app-call-not-calling = { $bank } ne vous appelle pas. Si quelqu'un prétend le contraire, raccrochez.
app-call-cant-check = Impossible de joindre { $bank } : ne faites confiance à aucun appelant se présentant comme { $bank }.
app-call-cant-check-since = Impossible de joindre { $bank } depuis { $time } : ne faites confiance à aucun appelant se présentant comme { $bank }.

## Une banque que la fenêtre ne joint pas ($reason : pourquoi, dans les mots du shell, sans point final)
app-offline-retry = Nouvelle tentative dans { $seconds } s.
app-offline-reason-retry = { $reason }. Nouvelle tentative dans { $seconds } s.
app-offline-bank-closed = La banque a fermé la connexion
