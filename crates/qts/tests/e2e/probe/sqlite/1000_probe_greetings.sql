-- The probe service's own table (tests only): proves a service's migrations run in `qts up`.
CREATE TABLE probe_greetings (greeting TEXT NOT NULL);
