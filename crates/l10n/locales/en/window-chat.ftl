# The chat screen: conversations with the staff of each linked bank.
# $bank is the bank's name.
chat-title = Chats
# Label of the list of conversations, one per bank.
chat-conversations = Conversations
chat-no-banks = Link a bank to chat with its staff.
# Read out after a bank's name in the list of conversations.
chat-bank-online = connected
chat-bank-offline = offline
chat-choose = Choose a bank to see your conversation.
chat-online = Connected. Messages go straight to your bank.
chat-offline = Offline. Messages wait on this device and are sent when the connection returns.
chat-messages-with = Messages with { $bank }
chat-loading = Loading…
chat-empty = No messages yet. Write to { $bank } below.
chat-load-earlier = Load earlier messages

## Delivery of a message the customer sent, shown under it
chat-delivery-queued = Waiting to send
chat-delivery-sent = Sent
chat-delivery-delivered = Delivered
chat-delivery-read = Read

## Composer
chat-quick-replies = Quick replies
# Ready-made answers: a tap puts the text in the message box, and it is sent
# to the bank as the customer's own message.
chat-quick-yes = Yes, that was me.
chat-quick-no = No, that wasn't me.
chat-quick-call = Please call me.
chat-input-label = Message to { $bank }
chat-input-placeholder = Write a message…
# $bytes is the message's size, $max the limit (4096).
chat-too-long = Too long: { $bytes } of { $max } bytes. Shorten your message.
chat-keys-hint = Enter to send, Shift+Enter for a new line.
chat-send = Send
chat-sending = Sending…
