# Les écrans avant la fenêtre principale : l'écran de verrouillage, le premier
# lancement, et ce que dit la fenêtre quand Strongroom ne peut pas démarrer.

## Écran de verrouillage
lock-title = Strongroom est verrouillé
lock-keys-removed = Vos clés ont été effacées de la mémoire.
lock-enter-passphrase = Saisissez le mot de passe de l'application pour continuer.
lock-press-unlock = Déverrouillez Strongroom pour continuer.
lock-passphrase = Mot de passe de l'application
lock-wrong-passphrase = Ce mot de passe est incorrect. Veuillez réessayer.
lock-unlock = Déverrouiller
lock-unlocking = Déverrouillage…

## Premier lancement
first-run-title = Bienvenue dans Strongroom
first-run-lead = Des messages et des alertes sécurisés dont votre banque peut prouver l'envoi, sans intermédiaire.
first-run-keychain-title = Vérification du trousseau de clés
first-run-keychain-ok = Le trousseau de clés de votre système est disponible et votre espace de stockage chiffré est ouvert.
first-run-data-title = Ce que Strongroom fait de vos données
# Chaque point commence en gras : $em est le texte .em, placé là où il va dans la phrase.
first-run-fact-local = { $em } Les messages et alertes sont conservés uniquement ici.
    .em = Conserve votre historique chiffré sur cet appareil.
first-run-fact-keys = { $em }, jamais dans un simple fichier.
    .em = Conserve ses clés dans le trousseau de clés de votre système
first-run-fact-bank-only = { $em } Il n'y a aucun serveur Strongroom et aucun intermédiaire.
    .em = Ne communique qu'avec votre banque.
first-run-fact-password = { $em } Vous approuvez chaque association sur le site de votre banque.
    .em = Ne voit jamais votre mot de passe bancaire.
first-run-fact-no-tracking = Aucune mesure d'audience, aucun pistage, aucune publicité.
first-run-pass-title = Mot de passe de l'application
first-run-optional = (facultatif)
first-run-pass-already-set = Un mot de passe est déjà défini pour l'application. Vous pourrez le modifier plus tard dans les Paramètres.
first-run-pass-label = Mot de passe pour déverrouiller Strongroom
first-run-show = Afficher
first-run-hide = Masquer
first-run-pass-hint = Laissez vide pour déverrouiller sans mot de passe. Avec un mot de passe, Strongroom le demande après s'être verrouillé. Choisissez-en un dont vous vous souviendrez.
first-run-continue = Continuer
first-run-saving = Enregistrement…

## Strongroom ne peut pas démarrer
# Titres et étapes pour chaque problème de trousseau. Les noms de menus et de
# programmes sont ceux du bureau (GNOME, KDE Plasma), tels qu'il les affiche en français.
start-keychain-missing-title = Aucun trousseau de clés système n'a été trouvé
start-keychain-missing-step-1 = Strongroom conserve ses clés dans le trousseau de clés de votre bureau (le Secret Service), et aucun n'est en cours d'exécution.
start-keychain-missing-step-2 = GNOME et la plupart des bureaux : installez GNOME Keyring (sous Debian ou Ubuntu : sudo apt install gnome-keyring), puis déconnectez-vous et reconnectez-vous.
start-keychain-missing-step-3 = KDE Plasma : installez KWallet (sudo apt install kwalletmanager), activez-le dans Configuration du système → Portefeuille KDE, puis déconnectez-vous et reconnectez-vous.
start-press-retry = Cliquez ensuite sur « Réessayer ».
start-keychain-locked-title = Votre trousseau de clés est verrouillé
start-keychain-locked-step-1 = GNOME : ouvrez « Mots de passe et clés » (Seahorse), sélectionnez le trousseau « Connexion » et choisissez « Déverrouiller » ; saisissez votre mot de passe de session.
start-keychain-locked-step-2 = KDE Plasma : ouvrez le Gestionnaire de portefeuilles KDE et ouvrez votre portefeuille avec son mot de passe.
start-keychain-denied-title = Strongroom n'a pas été autorisé à utiliser votre trousseau de clés
start-keychain-denied-step-1 = Votre trousseau de clés a refusé l'accès, ou la demande a été annulée.
start-keychain-denied-step-2 = Cliquez sur « Réessayer » et, lorsque votre bureau demande si Strongroom peut utiliser le trousseau, autorisez-le.
start-keychain-denied-step-3 = KDE Plasma : dans le Gestionnaire de portefeuilles KDE, vérifiez que Strongroom ne figure pas dans la liste des applications refusées.
start-keychain-failed-title = Strongroom n'a pas pu utiliser votre trousseau de clés
start-follow-advice = Suivez les conseils ci-dessous, puis cliquez sur « Réessayer ».
start-failed-title = Strongroom n'a pas pu démarrer
start-failed-step = Suivez les conseils ci-dessous, puis cliquez sur « Réessayer ». Si le problème persiste, redémarrez votre ordinateur.
# $code : un code d'erreur stable comme keychain_locked ; à laisser tel quel.
start-code = Code : { $code }
start-how-to-fix = Comment résoudre le problème
start-nothing-lost = Rien n'a été perdu. Votre historique reste chiffré sur cet appareil, et Strongroom ne stocke vos clés nulle part ailleurs.
start-retry = Réessayer
start-retrying = Vérification…
