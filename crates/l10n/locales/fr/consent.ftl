# Les pages de validation de la banque (RFC 8628) : le client se connecte avec
# le mot de passe de sa banque, confirme le code affiché par l'application
# Strongroom, puis autorise ou refuse ce que l'application demande. $bank est
# le nom de la banque, $code le code (tous deux tels quels). Texte brut : la
# page met elle-même le code en évidence. Espace insécable avant « : », « ; »,
# « ? » et « ! ».

## Page de connexion
consent-sign-in-title = { $bank } – associer Strongroom
consent-sign-in-heading = { $bank } : associer l'application Strongroom
consent-sign-in-intro = Connectez-vous avec votre identifiant et votre mot de passe { $bank }, puis saisissez le code affiché par l'application.
consent-code-label = Code affiché par l'application
consent-username = Identifiant
consent-password = Mot de passe
consent-sign-in = Se connecter

## Ce qui peut échouer à la connexion
consent-error-too-large = Le formulaire est trop volumineux.
consent-error-form-expired = Ce formulaire a expiré ou a déjà été utilisé. Veuillez réessayer.
consent-error-credentials-missing = Saisissez votre identifiant et votre mot de passe.
consent-error-busy = La banque est très sollicitée. Veuillez réessayer dans un instant.
consent-error-too-many-sign-ins-seconds =
    Trop de tentatives de connexion échouées. Patientez { $seconds ->
        [one] { $seconds } seconde
       *[other] { $seconds } secondes
    } puis réessayez.
consent-error-too-many-sign-ins-minutes =
    Trop de tentatives de connexion échouées. Patientez { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    } puis réessayez.
consent-error-wrong-password = L'identifiant ou le mot de passe est incorrect.
consent-error-too-many-codes =
    Trop de codes erronés. Patientez { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }, puis relancez l'association dans l'application.
consent-error-code-malformed = Ce code est incorrect. Vérifiez le code affiché par l'application.
consent-error-code-spent = Ce code a été essayé trop souvent avec de mauvais mots de passe. Relancez l'association dans l'application.
consent-error-code-unknown = Ce code est incorrect ou a expiré. Vérifiez le code affiché par l'application.

## Page de consentement
consent-title = { $bank } – autoriser Strongroom
consent-heading = Autoriser l'application Strongroom à utiliser votre compte { $bank } ?
# La page met $code en évidence, dans une police à chasse fixe.
consent-code = Code { $code }. Ne continuez que si ce code s'affiche dans votre propre application Strongroom.
consent-app-can = L'application pourra :
consent-scope-alerts = Recevoir des alertes signées par la banque : opérations, solde, événements de sécurité et contrôles de fraude, et envoyer vos réponses aux contrôles de fraude.
consent-scope-chat = Envoyer et recevoir des messages avec les conseillers de la banque.
consent-app-cannot = Elle ne verra pas votre mot de passe et ne peut pas effectuer de paiements. Vous pouvez la dissocier à tout moment.
consent-approve = Autoriser
consent-deny = Refuser

## Après « Autoriser » ou « Refuser »
consent-choose = Choisissez « Autoriser » ou « Refuser ».
consent-approved = Accès autorisé
consent-approved-next = Vous pouvez retourner dans l'application Strongroom ; elle termine l'association d'elle-même.
consent-denied = Accès refusé
consent-denied-next = L'application n'a pas été associée. Si vous n'êtes pas à l'origine de cette demande, prévenez votre banque.
consent-expired = Expiré
consent-page-expired = Cette page a expiré ou a déjà été utilisée.
consent-page-expired-next = Recommencez à partir du code affiché dans l'application.
consent-code-expired = Ce code a expiré ou a déjà été utilisé.
consent-code-expired-next = Recommencez depuis l'application.
consent-error = Erreur
consent-error-internal = Une erreur s'est produite. Veuillez réessayer.
