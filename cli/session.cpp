// The database session of one tenantctl command.
#include "session.hpp"

namespace tenantctl {

// Returns the connection, connecting if needed.
pqxx::connection &Session::connection()
{
	if (!connection_)
		connection_ = std::make_unique<pqxx::connection>(conninfo_);
	return *connection_;
}

} // namespace tenantctl
