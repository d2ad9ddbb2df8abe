# Le shell de bureau : notifications et menu de la zone de notification.

## Notifications
notify-quarantined = Une alerte n'a pas pu être vérifiée et a été mise en quarantaine.
notify-new-activity = Nouvelle activité
notify-alert-amount = { $kind } : { $amount }
notify-alert-amount-merchant = { $kind } : { $amount } chez { $merchant }
notify-call-title = { $bank } vous appelle
notify-call-body = { $agent }, motif : { $reason }. Vérifié par Strongroom.
notify-call-hidden = Votre banque vous appelle
notify-call-bank = { $bank } vous appelle. Vérifié par Strongroom.

notify-open = Ouvrir

## Zone de notification
tray-open = Ouvrir Strongroom
tray-lock = Verrouiller maintenant
tray-quit = Quitter Strongroom
tray-unread = { $count ->
    [one] Strongroom : { $count } non lue
   *[other] Strongroom : { $count } non lues
}
tray-checks = { $count ->
    [one] { $count } contrôle de fraude en attente de réponse
   *[other] { $count } contrôles de fraude en attente de réponse
}
tray-call-talking = { $bank } : vous parle en ce moment, { $agent }
tray-call-verified = vérifié
tray-call-not-calling = { $bank } : ne vous appelle pas
tray-call-cant-check = { $bank } : impossible de vérifier qui appelle
