# L'écran Paramètres de la fenêtre.
settings-title = Paramètres
# Lu par les lecteurs d'écran après l'enregistrement d'un réglage.
settings-saved = Enregistré

## Langue
settings-language-title = Langue
settings-language-label = Langue de l'application
settings-language-system = Utiliser la langue du système
# Le nom de chaque langue dans cette langue : identique dans chaque catalogue.
settings-language-en = English
settings-language-de = Deutsch
settings-language-fr = Français

## Notifications
settings-notifications-title = Notifications
settings-privacy-legend = Ce qu'affichent les notifications du bureau
settings-privacy-full = Tout afficher
    .hint = Banque, montant, commerçant et texte.
settings-privacy-hide-amounts = Masquer les montants
    .hint = Banque et type d'alerte, sans montant ni commerçant.
# « Nouvelle activité » est le texte d'une telle notification (notify-new-activity dans desktop.ftl).
settings-privacy-nothing = Ne rien afficher
    .hint = Seulement « Nouvelle activité » de Strongroom.

## Verrouillage
settings-lock-title = Verrouillage
settings-auto-lock-label = Verrouiller automatiquement après (minutes, 0 = jamais)
settings-auto-lock-invalid = Le verrouillage automatique doit être compris entre 0 (jamais) et 1440 minutes.
settings-lock-now = Verrouiller maintenant

## Mot de passe de l'application
settings-pass-title = Mot de passe de l'application
settings-pass-is-set = Un mot de passe est défini : Strongroom le demande au déverrouillage.
settings-pass-not-set = Aucun mot de passe n'est défini : toute personne utilisant votre session peut déverrouiller Strongroom.
settings-pass-current = Mot de passe actuel
settings-pass-new = Nouveau mot de passe
settings-pass-confirm = Confirmer le nouveau mot de passe
settings-pass-change = Modifier le mot de passe
settings-pass-set = Définir un mot de passe
settings-pass-remove = Supprimer le mot de passe
settings-pass-empty = Saisissez un nouveau mot de passe.
settings-pass-mismatch = Les deux nouveaux mots de passe ne correspondent pas.
settings-pass-removed = Mot de passe supprimé.
settings-pass-saved = Mot de passe enregistré.
settings-pass-wrong = Votre mot de passe actuel est incorrect.

## Banques associées
settings-banks-title = Banques associées
settings-banks-none = Aucune banque n'est associée.
# $date : date de l'association, déjà mise en forme.
settings-bank-linked = associée le { $date }
settings-unlink = Dissocier…

## Fenêtre « Dissocier » ($bank : le nom de la banque)
settings-unlink-title = Dissocier { $bank } ?
settings-unlink-body = L'accès de Strongroom sera révoqué auprès de { $bank } et vos messages et alertes avec cette banque seront effacés de cet appareil. Cette action est irréversible ; vous pourrez associer à nouveau la banque plus tard.
settings-unlink-cancel = Annuler
settings-unlink-confirm = Dissocier et effacer
settings-unlink-busy = Dissociation…

## Export
settings-export-title = Exporter les alertes signées
settings-export-intro = Enregistre chaque alerte signée par votre banque, avec les clés épinglées de la banque, dans un fichier de votre dossier Téléchargements.
# $command est une ligne de commande, affichée comme du code : à laisser telle quelle.
settings-export-check = N'importe qui peut le vérifier hors ligne avec { $command }.
settings-export-account = Banque à exporter
settings-export-start = Exporter le relevé
settings-export-busy = Exportation…
# $path : le chemin du fichier, affiché comme du code.
settings-export-saved-to = Enregistré dans { $path }

## Mises à jour ($version : un numéro de version comme 0.2.0)
settings-updates-title = Mises à jour
settings-updates-intro = Strongroom n'installe une mise à jour que si elle est signée avec la clé de publication de Strongroom. Il n'en recherche une que lorsque vous le demandez.
settings-update-offer = La version { $version } est disponible (vous avez la { $current }).
settings-update-latest = Vous avez la dernière version ({ $version }).
settings-update-installed = La version { $version } est installée. Redémarrez Strongroom pour l'utiliser.
settings-update-install = Installer la { $version }
settings-update-restart = Redémarrer maintenant
settings-update-check = Rechercher des mises à jour

## Registre de confidentialité
settings-ledger-title = Registre de confidentialité
settings-ledger-intro = Tout ce que Strongroom a partagé, avec quelle banque et quand.
settings-ledger-empty = Rien n'a été partagé.
settings-ledger-when = Date
settings-ledger-bank = Banque
settings-ledger-what = Données partagées

settings-ledger-linked = Cet appareil a été associé : sa clé publique, et votre accord pour les alertes et la messagerie.
settings-ledger-fraud_answer = { $answer ->
    [me] Votre réponse à un contrôle de fraude : c'était moi.
   *[not_me] Votre réponse à un contrôle de fraude : ce n'était pas moi.
}
settings-ledger-chat_message = { $characters ->
    [one] Un message ({ $characters } caractère).
   *[other] Un message ({ $characters } caractères).
}
