"""One router per resource family; each stays small: parse, call a service, map."""
