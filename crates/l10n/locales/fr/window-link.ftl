# Associer une banque : le client saisit l'adresse de la banque, lit ce qui
# sera partagé, puis valide avec un code sur le site de la banque.
# $bank est le nom de la banque.

## Saisie de l'adresse de la banque
link-title = Associer une banque
link-intro = L'association est facultative : vous pouvez dissocier votre banque à tout moment dans les Paramètres. Vous validerez l'association sur le site de votre banque ; Strongroom ne voit jamais votre mot de passe bancaire.
link-address-label = Adresse de votre banque
link-address-hint = Votre banque vous communique cette adresse. Elle commence par https://
link-address-empty = Saisissez l'adresse de votre banque.
# Garder l'adresse d'exemple telle quelle.
link-address-not-url = Ce n'est pas une adresse web valide. Exemple : https://bank.example
link-address-not-https = L'adresse de votre banque doit commencer par https://
link-address-credentials = L'adresse ne doit contenir ni nom d'utilisateur ni mot de passe.
link-contacting = Connexion à votre banque…
link-continue = Continuer
# Entre « Continuer » et « Utiliser la banque de démonstration ».
link-or = ou
link-use-demo = Utiliser la banque de démonstration
link-use-demo-at = Utiliser la banque de démonstration sur { $host }
link-declined = L'association a été refusée chez { $bank }. Rien n'a été partagé. Vous pouvez réessayer.
link-expired = Le code a expiré avant d'être validé. Rien n'a été partagé. Recommencez pour obtenir un nouveau code.

## Consentement
link-consent-title = Associer { $bank } ?
# Suit le nom et l'adresse web de la banque, en gras avant ; vient ensuite
# la liste de ce qui est partagé.
link-consent-asks = demande l'association avec Strongroom sur cet appareil. Si vous acceptez, voici exactement ce qui sera partagé :
link-consent-nothing-else = Rien d'autre n'est partagé. Vous pouvez dissocier la banque à tout moment dans les Paramètres.
link-accept = Accepter
link-cancel = Annuler

## Validation auprès de la banque
link-approve-title = Validez chez { $bank }
link-step-open = Ouvrez le site de votre banque dans votre navigateur, à cette adresse :
link-step-code = Connectez-vous comme d'habitude et saisissez ce code lorsqu'il vous est demandé :
link-step-check = Vérifiez que le code affiché sur la page de la banque est identique, puis validez.
link-copy = Copier
link-copied-address = Adresse copiée
link-copied-code = Code copié
link-copy-unavailable = La copie n'est pas disponible : sélectionnez le texte et copiez-le.
# Lu par les lecteurs d'écran ; $code est le code, ses caractères séparés par des espaces.
link-code-label = Code : { $code }
# $remaining est en minutes et secondes, par exemple 9:58.
link-waiting = En attente de votre validation… Le code expire dans { $remaining }.

## Reçu
link-linked-title = Association réussie avec { $bank }
link-receipt-title = Reçu de consentement
link-receipt-bank = Banque
# Quand la banque a été associée ; la date et l'heure suivent.
link-receipt-linked = Date d'association
link-receipt-shared = Partagé avec la banque
# « Paramètres » et « Registre de confidentialité » sont les noms de l'écran et de sa section.
link-receipt-kept = Ce reçu est aussi conservé dans Paramètres → Registre de confidentialité.
link-done = Terminé

link-share-device_key = { $bank } apprend que vous utilisez Strongroom sur cet appareil, et reçoit la clé publique de cet appareil.
link-share-alerts = { $bank } peut envoyer à cet appareil des alertes sur vos comptes (portée : alerts).
link-share-chat = Vous et le personnel de { $bank } pouvez échanger par messagerie ; { $bank } conserve ce que vous envoyez (portée : chat).
link-share-fraud_answers = Vos réponses aux contrôles de fraude sont transmises à { $bank }, liées à cet appareil.
link-share-nothing_else = Rien d'autre : ni contacts, ni localisation, ni autres banques, ni données analytiques.
