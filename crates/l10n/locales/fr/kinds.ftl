# Le nom de chaque type d'alerte, sans montant ni commerçant.
kind-purchase = Paiement par carte
kind-card_not_present = Achat en ligne ou par téléphone
kind-foreign_transaction = Opération à l'étranger
kind-declined = Opération refusée
kind-balance_low = Solde bas
kind-deposit_received = Versement reçu
kind-payment_due = Échéance de paiement
kind-new_device_sign_in = Connexion depuis un nouvel appareil
kind-security_detail_changed = Données de sécurité modifiées
kind-fraud_check = Veuillez confirmer une opération
kind-custom = Message de votre banque

call-reason-suspicious_payment = paiement suspect
call-reason-card = votre carte
call-reason-application = votre demande de crédit
call-reason-identity_check = vérification de votre identité
call-reason-requested_callback = le rappel que vous avez demandé
