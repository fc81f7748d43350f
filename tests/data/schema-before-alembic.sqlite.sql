-- The schema as create_all made it on SQLite before the migrations (d56d722): tests/test_migrations.py
CREATE TABLE contacts (
	phone VARCHAR(20) NOT NULL, 
	opted_out BOOLEAN NOT NULL, 
	display_name VARCHAR(120) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (phone)
);
CREATE TABLE whatsapp_windows (
	phone VARCHAR(20) NOT NULL, 
	line_address VARCHAR(64) NOT NULL, 
	last_at DATETIME NOT NULL, 
	PRIMARY KEY (phone, line_address)
);
CREATE TABLE officers (
	id INTEGER NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	full_name VARCHAR(120) NOT NULL, 
	agency VARCHAR(64) NOT NULL, 
	roles VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	active BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
CREATE TABLE state_counts (
	agency VARCHAR(64) NOT NULL, 
	state VARCHAR(24) NOT NULL, 
	n INTEGER NOT NULL, 
	PRIMARY KEY (agency, state)
);
CREATE TABLE canned_replies (
	id INTEGER NOT NULL, 
	agency VARCHAR(64) NOT NULL, 
	title VARCHAR(120) NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE tickets (
	id INTEGER NOT NULL, 
	code VARCHAR(8) NOT NULL, 
	agency VARCHAR(64) NOT NULL, 
	line_id VARCHAR(64) NOT NULL, 
	channel VARCHAR(16) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	state VARCHAR(24) NOT NULL, 
	phone VARCHAR(20), 
	citizen_address VARCHAR(64) NOT NULL, 
	line_address VARCHAR(64) NOT NULL, 
	citizen_name VARCHAR(120) NOT NULL, 
	citizen_home VARCHAR(255) NOT NULL, 
	body TEXT NOT NULL, 
	body_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	due_at DATETIME NOT NULL, 
	last_inbound_at DATETIME, 
	new_since DATETIME, 
	is_open BOOLEAN NOT NULL, 
	held_state VARCHAR(24) NOT NULL, 
	assignee_id INTEGER, 
	instruction TEXT NOT NULL, 
	draft TEXT NOT NULL, 
	draft_author_id INTEGER, 
	review_note TEXT NOT NULL, 
	approved_by_id INTEGER, 
	PRIMARY KEY (id), 
	UNIQUE (code), 
	FOREIGN KEY(assignee_id) REFERENCES officers (id), 
	FOREIGN KEY(draft_author_id) REFERENCES officers (id), 
	FOREIGN KEY(approved_by_id) REFERENCES officers (id)
);
CREATE TABLE login_sessions (
	token_hash VARCHAR(64) NOT NULL, 
	officer_id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(officer_id) REFERENCES officers (id)
);
CREATE TABLE inbound_messages (
	id INTEGER NOT NULL, 
	message_sid VARCHAR(64) NOT NULL, 
	account_sid VARCHAR(64) NOT NULL, 
	channel VARCHAR(16) NOT NULL, 
	from_address VARCHAR(64) NOT NULL, 
	phone VARCHAR(20), 
	to_address VARCHAR(64) NOT NULL, 
	body TEXT NOT NULL, 
	num_media INTEGER NOT NULL, 
	profile_name VARCHAR(120) NOT NULL, 
	params JSON NOT NULL, 
	received_at DATETIME NOT NULL, 
	queued_at DATETIME, 
	processed_at DATETIME, 
	attempts INTEGER NOT NULL, 
	intent VARCHAR(32) NOT NULL, 
	line_id VARCHAR(64) NOT NULL, 
	ticket_id INTEGER, 
	PRIMARY KEY (id), 
	UNIQUE (message_sid), 
	FOREIGN KEY(ticket_id) REFERENCES tickets (id)
);
CREATE TABLE ticket_events (
	id INTEGER NOT NULL, 
	ticket_id INTEGER NOT NULL, 
	officer_id INTEGER, 
	action VARCHAR(32) NOT NULL, 
	from_state VARCHAR(24) NOT NULL, 
	to_state VARCHAR(24) NOT NULL, 
	agency VARCHAR(64) NOT NULL, 
	note TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(ticket_id) REFERENCES tickets (id), 
	FOREIGN KEY(officer_id) REFERENCES officers (id)
);
CREATE TABLE outbound_messages (
	id INTEGER NOT NULL, 
	idempotency_key VARCHAR(120) NOT NULL, 
	ticket_id INTEGER, 
	inbound_id INTEGER, 
	purpose VARCHAR(32) NOT NULL, 
	channel VARCHAR(16) NOT NULL, 
	to_address VARCHAR(64) NOT NULL, 
	from_address VARCHAR(64) NOT NULL, 
	body TEXT NOT NULL, 
	content_sid VARCHAR(64) NOT NULL, 
	content_variables TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	status_rank INTEGER NOT NULL, 
	provider_sid VARCHAR(64), 
	error_code VARCHAR(16) NOT NULL, 
	error_message VARCHAR(255) NOT NULL, 
	attempts INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	unsure_since DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (idempotency_key), 
	FOREIGN KEY(ticket_id) REFERENCES tickets (id), 
	FOREIGN KEY(inbound_id) REFERENCES inbound_messages (id), 
	UNIQUE (provider_sid)
);
CREATE TABLE attachments (
	id INTEGER NOT NULL, 
	inbound_id INTEGER NOT NULL, 
	ticket_id INTEGER, 
	position INTEGER NOT NULL, 
	source_url VARCHAR(500) NOT NULL, 
	content_type VARCHAR(100) NOT NULL, 
	path VARCHAR(255) NOT NULL, 
	size INTEGER NOT NULL, 
	error VARCHAR(255) NOT NULL, 
	stored_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(inbound_id) REFERENCES inbound_messages (id), 
	FOREIGN KEY(ticket_id) REFERENCES tickets (id)
);
CREATE VIRTUAL TABLE tickets_text USING fts5(body, content='tickets', content_rowid='id', tokenize='trigram');
CREATE INDEX ix_officers_agency ON officers (agency);
CREATE INDEX ix_canned_replies_agency ON canned_replies (agency);
CREATE INDEX ix_ticket_received ON tickets (agency, created_at);
CREATE INDEX ix_ticket_open_queue ON tickets (agency, is_open, due_at, id);
CREATE INDEX ix_ticket_assignee ON tickets (assignee_id, due_at, id);
CREATE INDEX ix_ticket_queue ON tickets (agency, state, due_at, id);
CREATE INDEX ix_ticket_resend ON tickets (phone, body_hash, created_at);
CREATE INDEX ix_login_sessions_officer_id ON login_sessions (officer_id);
CREATE INDEX ix_inbound_messages_ticket_id ON inbound_messages (ticket_id);
CREATE INDEX ix_inbound_unprocessed ON inbound_messages (processed_at, queued_at);
CREATE INDEX ix_event_action ON ticket_events (action, agency);
CREATE INDEX ix_ticket_events_ticket_id ON ticket_events (ticket_id);
CREATE INDEX ix_outbound_messages_ticket_id ON outbound_messages (ticket_id);
CREATE INDEX ix_outbound_to ON outbound_messages (to_address, created_at);
CREATE INDEX ix_outbound_status ON outbound_messages (status, updated_at);
CREATE INDEX ix_attachments_inbound_id ON attachments (inbound_id);
CREATE INDEX ix_attachments_ticket_id ON attachments (ticket_id);
