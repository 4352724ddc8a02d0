// The database session of one tenantctl command.
#include "session.hpp"

#include <exception>
#include <utility>

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

	// Called by libpqxx for each notification; keeps what the callback
	// threw (libpqxx would drop it) for listen() to throw on.
	void operator()(const std::string &payload, int backend_pid) override
	{
		try {
			on_notify_(payload);
		} catch (...) {
			failure_ = std::current_exception();
		}
	}

	// Throws what the callback threw, if anything.
	void rethrow()
	{
		if (failure_)
			std::rethrow_exception(std::exchange(failure_, nullptr));
	}

private:
	const std::function<void(const std::string &)> &on_notify_;
	std::exception_ptr failure_;
};

} // namespace

// Listens on a channel until the process is stopped.
void Session::listen(const std::string &channel, const std::function<void()> &ready,
					 const std::function<void(const std::string &)> &on_notify)
{
	Receiver receiver(connection(), channel, on_notify);
	connection().get_notifs(); // sends the LISTEN now
	ready();
	for (;;) {
		connection().await_notification();
		receiver.rethrow();
	}
}

} // namespace tenantctl
