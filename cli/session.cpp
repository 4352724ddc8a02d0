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

namespace {

// Hands each notification of one channel to a callback.
class Receiver : public pqxx::notification_receiver {
public:
	// Starts listening on channel (LISTEN) for the connection.
	Receiver(pqxx::connection &connection, const std::string &channel,
			 const std::function<void(const std::string &)> &on_notify)
		: pqxx::notification_receiver(connection, channel), on_notify_(on_notify) {}

	// Called by libpqxx for each notification.
	void operator()(const std::string &payload, int backend_pid) override { on_notify_(payload); }

private:
	const std::function<void(const std::string &)> &on_notify_;
};

} // namespace

// Listens on a channel until the process is stopped.
void Session::listen(const std::string &channel, const std::function<void()> &ready,
					 const std::function<void(const std::string &)> &on_notify)
{
	Receiver receiver(connection(), channel, on_notify);
	connection().get_notifs(); // sends the LISTEN now
	ready();
	for (;;)
		connection().await_notification();
}

} // namespace tenantctl
