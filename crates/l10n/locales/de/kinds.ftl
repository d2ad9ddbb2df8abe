# Wie jede Art von Meldung heißt, ohne Betrag oder Händler.
kind-purchase = Kartenzahlung
kind-card_not_present = Online- oder Telefonkauf
kind-foreign_transaction = Zahlung im Ausland
kind-declined = Abgelehnte Zahlung
kind-balance_low = Niedriger Kontostand
kind-deposit_received = Zahlungseingang
kind-payment_due = Zahlung fällig
kind-new_device_sign_in = Anmeldung auf neuem Gerät
kind-security_detail_changed = Sicherheitsdaten geändert
kind-fraud_check = Bitte bestätigen Sie eine Zahlung
kind-custom = Nachricht Ihrer Bank

call-reason-suspicious_payment = verdächtige Zahlung
call-reason-card = Ihre Karte
call-reason-application = Ihr Antrag
call-reason-identity_check = Prüfung Ihrer Identität
call-reason-requested_callback = von Ihnen gewünschter Rückruf
