-- History pages (GET /v1/history) walk a customer's alerts newest first.
CREATE INDEX alerts_customer_time ON alerts(customer_id, created_at);
