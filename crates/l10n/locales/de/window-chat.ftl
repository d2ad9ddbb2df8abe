# Der Chat-Bildschirm: Chats mit den Mitarbeitenden jeder verknüpften Bank.
# $bank ist der Name der Bank.
chat-title = Chat
# Beschriftung der Liste der Chats, einer je Bank.
chat-conversations = Chats
chat-no-banks = Verknüpfen Sie eine Bank, um mit ihren Mitarbeitenden zu chatten.
# Wird nach dem Namen einer Bank in der Liste vorgelesen.
chat-bank-online = verbunden
chat-bank-offline = offline
chat-choose = Wählen Sie eine Bank, um den Chat anzuzeigen.
chat-online = Verbunden. Nachrichten gehen direkt an Ihre Bank.
chat-offline = Offline. Nachrichten bleiben auf diesem Gerät und werden gesendet, sobald die Verbindung wieder besteht.
chat-messages-with = Nachrichten mit { $bank }
chat-loading = Wird geladen…
chat-empty = Noch keine Nachrichten. Schreiben Sie unten eine Nachricht an { $bank }.
chat-load-earlier = Ältere Nachrichten laden

## Zustellung einer gesendeten Nachricht, unter ihr angezeigt
chat-delivery-queued = Wartet auf Versand
chat-delivery-sent = Gesendet
chat-delivery-delivered = Zugestellt
chat-delivery-read = Gelesen

## Eingabebereich
chat-quick-replies = Schnellantworten
# Vorgefertigte Antworten: Ein Klick setzt den Text in das Eingabefeld; er geht
# als Nachricht der Kundin oder des Kunden an die Bank.
chat-quick-yes = Ja, das war ich.
chat-quick-no = Nein, das war ich nicht.
chat-quick-call = Bitte rufen Sie mich an.
chat-input-label = Nachricht an { $bank }
chat-input-placeholder = Nachricht schreiben…
# $bytes ist die Größe der Nachricht, $max die Grenze (4096).
chat-too-long = Zu lang: { $bytes } von { $max } Byte. Bitte kürzen Sie Ihre Nachricht.
chat-keys-hint = Eingabetaste zum Senden, Umschalt+Eingabe für eine neue Zeile.
chat-send = Senden
chat-sending = Wird gesendet…
