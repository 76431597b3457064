"""Gate: passes, gate codes and posters, check-ins (online, offline, self), visitors."""
