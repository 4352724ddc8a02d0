// The database session of one tenantctl command.
#include "session.hpp"

namespace tenantctl {

// Returns the connection, connecting if needed.
pqxx::connection &Session::connection()
{
	if (!connection_) {
		connection_ = std::make_unique<pqxx::connection>(conninfo_);
		// Everything tenantctl prints (JSON above all) is UTF-8, whatever
		// PGCLIENTENCODING says.
		connection_->set_client_encoding("UTF8");
	}
	return *connection_;
}

} // namespace tenantctl
