# L'écran de messagerie : les conversations avec les conseillers de chaque banque associée.
# $bank est le nom de la banque.
chat-title = Messagerie
# Libellé de la liste des conversations, une par banque.
chat-conversations = Conversations
chat-no-banks = Associez une banque pour échanger avec ses conseillers.
# Lu après le nom d'une banque dans la liste des conversations.
chat-bank-online = en ligne
chat-bank-offline = hors ligne
chat-choose = Choisissez une banque pour afficher votre conversation.
chat-online = En ligne. Vos messages sont transmis directement à votre banque.
chat-offline = Hors ligne. Vos messages restent sur cet appareil et partiront dès le retour de la connexion.
chat-messages-with = Messages avec { $bank }
chat-loading = Chargement…
chat-empty = Aucun message pour l'instant. Écrivez à { $bank } ci-dessous.
chat-load-earlier = Afficher les messages précédents

## Acheminement d'un message envoyé, affiché en dessous
chat-delivery-queued = En attente d'envoi
chat-delivery-sent = Envoyé
chat-delivery-delivered = Distribué
chat-delivery-read = Lu

## Zone de saisie
chat-quick-replies = Réponses rapides
# Réponses toutes prêtes : un clic place le texte dans la zone de saisie, et il
# part à la banque comme message du client.
chat-quick-yes = Oui, c'était bien moi.
chat-quick-no = Non, ce n'était pas moi.
chat-quick-call = Merci de m'appeler.
chat-input-label = Message à { $bank }
chat-input-placeholder = Écrire un message…
# $bytes est la taille du message, $max la limite (4096).
chat-too-long = Trop long : { $bytes } octets sur { $max }. Veuillez raccourcir votre message.
chat-keys-hint = Entrée pour envoyer, Maj+Entrée pour aller à la ligne.
chat-send = Envoyer
chat-sending = Envoi…
