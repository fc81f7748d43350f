-- The schema as create_all made it on PostgreSQL before the migrations (d56d722), by pg_dump -s:
-- tests/test_migrations.py

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

SET default_tablespace = '';

SET default_table_access_method = heap;

CREATE TABLE public.attachments (
    id integer NOT NULL,
    inbound_id integer NOT NULL,
    ticket_id integer,
    "position" integer NOT NULL,
    source_url character varying(500) NOT NULL,
    content_type character varying(100) NOT NULL,
    path character varying(255) NOT NULL,
    size integer NOT NULL,
    error character varying(255) NOT NULL,
    stored_at timestamp without time zone
);

CREATE SEQUENCE public.attachments_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.attachments_id_seq OWNED BY public.attachments.id;

CREATE TABLE public.canned_replies (
    id integer NOT NULL,
    agency character varying(64) NOT NULL,
    title character varying(120) NOT NULL,
    body text NOT NULL
);

CREATE SEQUENCE public.canned_replies_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.canned_replies_id_seq OWNED BY public.canned_replies.id;

CREATE TABLE public.contacts (
    phone character varying(20) NOT NULL,
    opted_out boolean NOT NULL,
    display_name character varying(120) NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

CREATE TABLE public.inbound_messages (
    id integer NOT NULL,
    message_sid character varying(64) NOT NULL,
    account_sid character varying(64) NOT NULL,
    channel character varying(16) NOT NULL,
    from_address character varying(64) NOT NULL,
    phone character varying(20),
    to_address character varying(64) NOT NULL,
    body text NOT NULL,
    num_media integer NOT NULL,
    profile_name character varying(120) NOT NULL,
    params json NOT NULL,
    received_at timestamp without time zone NOT NULL,
    queued_at timestamp without time zone,
    processed_at timestamp without time zone,
    attempts integer NOT NULL,
    intent character varying(32) NOT NULL,
    line_id character varying(64) NOT NULL,
    ticket_id integer
);

CREATE SEQUENCE public.inbound_messages_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.inbound_messages_id_seq OWNED BY public.inbound_messages.id;

CREATE TABLE public.login_sessions (
    token_hash character varying(64) NOT NULL,
    officer_id integer NOT NULL,
    created_at timestamp without time zone NOT NULL
);

CREATE TABLE public.officers (
    id integer NOT NULL,
    username character varying(64) NOT NULL,
    full_name character varying(120) NOT NULL,
    agency character varying(64) NOT NULL,
    roles character varying(64) NOT NULL,
    password_hash character varying(255) NOT NULL,
    active boolean NOT NULL,
    created_at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.officers_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.officers_id_seq OWNED BY public.officers.id;

CREATE TABLE public.outbound_messages (
    id integer NOT NULL,
    idempotency_key character varying(120) NOT NULL,
    ticket_id integer,
    inbound_id integer,
    purpose character varying(32) NOT NULL,
    channel character varying(16) NOT NULL,
    to_address character varying(64) NOT NULL,
    from_address character varying(64) NOT NULL,
    body text NOT NULL,
    content_sid character varying(64) NOT NULL,
    content_variables text NOT NULL,
    status character varying(16) NOT NULL,
    status_rank integer NOT NULL,
    provider_sid character varying(64),
    error_code character varying(16) NOT NULL,
    error_message character varying(255) NOT NULL,
    attempts integer NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    sent_at timestamp without time zone,
    unsure_since timestamp without time zone
);

CREATE SEQUENCE public.outbound_messages_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.outbound_messages_id_seq OWNED BY public.outbound_messages.id;

CREATE TABLE public.state_counts (
    agency character varying(64) NOT NULL,
    state character varying(24) NOT NULL,
    n integer NOT NULL
);

CREATE TABLE public.ticket_events (
    id integer NOT NULL,
    ticket_id integer NOT NULL,
    officer_id integer,
    action character varying(32) NOT NULL,
    from_state character varying(24) NOT NULL,
    to_state character varying(24) NOT NULL,
    agency character varying(64) NOT NULL,
    note text NOT NULL,
    created_at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.ticket_events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.ticket_events_id_seq OWNED BY public.ticket_events.id;

CREATE TABLE public.tickets (
    id integer NOT NULL,
    code character varying(8) NOT NULL,
    agency character varying(64) NOT NULL,
    line_id character varying(64) NOT NULL,
    channel character varying(16) NOT NULL,
    kind character varying(16) NOT NULL,
    state character varying(24) NOT NULL,
    phone character varying(20),
    citizen_address character varying(64) NOT NULL,
    line_address character varying(64) NOT NULL,
    citizen_name character varying(120) NOT NULL,
    citizen_home character varying(255) NOT NULL,
    body text NOT NULL,
    body_hash character varying(64) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    due_at timestamp without time zone NOT NULL,
    last_inbound_at timestamp without time zone,
    new_since timestamp without time zone,
    is_open boolean NOT NULL,
    held_state character varying(24) NOT NULL,
    assignee_id integer,
    instruction text NOT NULL,
    draft text NOT NULL,
    draft_author_id integer,
    review_note text NOT NULL,
    approved_by_id integer
);

CREATE SEQUENCE public.tickets_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.tickets_id_seq OWNED BY public.tickets.id;

CREATE TABLE public.whatsapp_windows (
    phone character varying(20) NOT NULL,
    line_address character varying(64) NOT NULL,
    last_at timestamp without time zone NOT NULL
);

ALTER TABLE ONLY public.attachments ALTER COLUMN id SET DEFAULT nextval('public.attachments_id_seq'::regclass);

ALTER TABLE ONLY public.canned_replies ALTER COLUMN id SET DEFAULT nextval('public.canned_replies_id_seq'::regclass);

ALTER TABLE ONLY public.inbound_messages ALTER COLUMN id SET DEFAULT nextval('public.inbound_messages_id_seq'::regclass);

ALTER TABLE ONLY public.officers ALTER COLUMN id SET DEFAULT nextval('public.officers_id_seq'::regclass);

ALTER TABLE ONLY public.outbound_messages ALTER COLUMN id SET DEFAULT nextval('public.outbound_messages_id_seq'::regclass);

ALTER TABLE ONLY public.ticket_events ALTER COLUMN id SET DEFAULT nextval('public.ticket_events_id_seq'::regclass);

ALTER TABLE ONLY public.tickets ALTER COLUMN id SET DEFAULT nextval('public.tickets_id_seq'::regclass);

ALTER TABLE ONLY public.attachments
    ADD CONSTRAINT attachments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.canned_replies
    ADD CONSTRAINT canned_replies_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (phone);

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_message_sid_key UNIQUE (message_sid);

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.login_sessions
    ADD CONSTRAINT login_sessions_pkey PRIMARY KEY (token_hash);

ALTER TABLE ONLY public.officers
    ADD CONSTRAINT officers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.officers
    ADD CONSTRAINT officers_username_key UNIQUE (username);

ALTER TABLE ONLY public.outbound_messages
    ADD CONSTRAINT outbound_messages_idempotency_key_key UNIQUE (idempotency_key);

ALTER TABLE ONLY public.outbound_messages
    ADD CONSTRAINT outbound_messages_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.outbound_messages
    ADD CONSTRAINT outbound_messages_provider_sid_key UNIQUE (provider_sid);

ALTER TABLE ONLY public.state_counts
    ADD CONSTRAINT state_counts_pkey PRIMARY KEY (agency, state);

ALTER TABLE ONLY public.ticket_events
    ADD CONSTRAINT ticket_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_code_key UNIQUE (code);

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.whatsapp_windows
    ADD CONSTRAINT whatsapp_windows_pkey PRIMARY KEY (phone, line_address);

CREATE INDEX ix_attachments_inbound_id ON public.attachments USING btree (inbound_id);

CREATE INDEX ix_attachments_ticket_id ON public.attachments USING btree (ticket_id);

CREATE INDEX ix_canned_replies_agency ON public.canned_replies USING btree (agency);

CREATE INDEX ix_event_action ON public.ticket_events USING btree (action, agency);

CREATE INDEX ix_inbound_messages_ticket_id ON public.inbound_messages USING btree (ticket_id);

CREATE INDEX ix_inbound_unprocessed ON public.inbound_messages USING btree (processed_at, queued_at);

CREATE INDEX ix_login_sessions_officer_id ON public.login_sessions USING btree (officer_id);

CREATE INDEX ix_officers_agency ON public.officers USING btree (agency);

CREATE INDEX ix_outbound_messages_ticket_id ON public.outbound_messages USING btree (ticket_id);

CREATE INDEX ix_outbound_status ON public.outbound_messages USING btree (status, updated_at);

CREATE INDEX ix_outbound_to ON public.outbound_messages USING btree (to_address, created_at);

CREATE INDEX ix_ticket_assignee ON public.tickets USING btree (assignee_id, due_at, id);

CREATE INDEX ix_ticket_body_trgm ON public.tickets USING gin (body public.gin_trgm_ops);

CREATE INDEX ix_ticket_events_ticket_id ON public.ticket_events USING btree (ticket_id);

CREATE INDEX ix_ticket_open_queue ON public.tickets USING btree (agency, is_open, due_at, id);

CREATE INDEX ix_ticket_queue ON public.tickets USING btree (agency, state, due_at, id);

CREATE INDEX ix_ticket_received ON public.tickets USING btree (agency, created_at);

CREATE INDEX ix_ticket_resend ON public.tickets USING btree (phone, body_hash, created_at);

ALTER TABLE ONLY public.attachments
    ADD CONSTRAINT attachments_inbound_id_fkey FOREIGN KEY (inbound_id) REFERENCES public.inbound_messages(id);

ALTER TABLE ONLY public.attachments
    ADD CONSTRAINT attachments_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.tickets(id);

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.tickets(id);

ALTER TABLE ONLY public.login_sessions
    ADD CONSTRAINT login_sessions_officer_id_fkey FOREIGN KEY (officer_id) REFERENCES public.officers(id);

ALTER TABLE ONLY public.outbound_messages
    ADD CONSTRAINT outbound_messages_inbound_id_fkey FOREIGN KEY (inbound_id) REFERENCES public.inbound_messages(id);

ALTER TABLE ONLY public.outbound_messages
    ADD CONSTRAINT outbound_messages_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.tickets(id);

ALTER TABLE ONLY public.ticket_events
    ADD CONSTRAINT ticket_events_officer_id_fkey FOREIGN KEY (officer_id) REFERENCES public.officers(id);

ALTER TABLE ONLY public.ticket_events
    ADD CONSTRAINT ticket_events_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.tickets(id);

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_approved_by_id_fkey FOREIGN KEY (approved_by_id) REFERENCES public.officers(id);

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_assignee_id_fkey FOREIGN KEY (assignee_id) REFERENCES public.officers(id);

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_draft_author_id_fkey FOREIGN KEY (draft_author_id) REFERENCES public.officers(id);

