// The database session of one tenantctl command: one connection, and every
// statement in its own transaction, with parameters passed separately from
// the SQL text.
#pragma once

#include <pqxx/pqxx>

#include <functional>
#include <memory>
#include <string>

namespace tenantctl {

// A connection made on first use, from -d/--dbname or libpq's PG* variables.
class Session {
public:
	// Remembers the connection string; connects on first use.
	explicit Session(std::string conninfo) : conninfo_(std::move(conninfo)) {}

	// Runs one statement with parameters in its own transaction.
	template <typename... Args>
	pqxx::result run(const std::string &sql, Args &&...args)
	{
		pqxx::work transaction(connection());
		pqxx::result result = transaction.exec_params(sql, std::forward<Args>(args)...);
		transaction.commit();
		return result;
	}

	// Runs a statement whose single value is text (JSON built by the server).
	template <typename... Args>
	std::string value(const std::string &sql, Args &&...args)
	{
		pqxx::result result = run(sql, std::forward<Args>(args)...);
		return result.empty() || result[0][0].is_null() ? std::string() : result[0][0].c_str();
	}

	// Runs a query in one transaction through a cursor and calls on_rows with
	// each batch of at most batch rows, so that a large answer never sits
	// whole in memory; the transaction commits after the last batch.
	template <typename... Args>
	void each_batch(const std::string &sql, long batch, const std::function<void(const pqxx::result &)> &on_rows,
					Args &&...args)
	{
		pqxx::work transaction(connection());
		transaction.exec_params("DECLARE tenantctl_rows NO SCROLL CURSOR FOR " + sql, std::forward<Args>(args)...);
		const std::string fetch = "FETCH FORWARD " + std::to_string(batch) + " FROM tenantctl_rows";
		for (;;) {
			pqxx::result rows = transaction.exec(fetch);
			if (rows.empty())
				break;
			on_rows(rows);
		}
		transaction.exec("CLOSE tenantctl_rows");
		transaction.commit();
	}

	// Runs one statement outside any transaction block (CREATE INDEX
	// CONCURRENTLY and the like).
	void run_outside_transaction(const std::string &sql)
	{
		pqxx::nontransaction statement(connection());
		statement.exec(sql);
	}

	// Listens on a channel and calls on_notify with each payload, until the
	// process is stopped; ready is called once listening has begun.
	void listen(const std::string &channel, const std::function<void()> &ready,
				const std::function<void(const std::string &)> &on_notify);

	// Returns the connection string given with -d (may be empty).
	const std::string &conninfo() const { return conninfo_; }

private:
	// Returns the connection, connecting if needed.
	pqxx::connection &connection();

	std::string conninfo_;
	std::unique_ptr<pqxx::connection> connection_;
};

} // namespace tenantctl
