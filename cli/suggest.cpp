// Mistyped and missing commands.
#include "suggest.hpp"
#include "errors.hpp"

#include <algorithm>
#include <cctype>

namespace tenantctl {

namespace {

// Returns the commands of a group, in the order they were added.
std::vector<const CLI::App *> commands_of(const CLI::App &app)
{
	return app.get_subcommands([](const CLI::App *command) { return !command->get_name().empty(); });
}

// Returns the command of a group named word, or nullptr.
const CLI::App *command_named(const CLI::App &app, const std::string &word)
{
	for (const CLI::App *command : commands_of(app))
		if (command->check_name(word))
			return command;
	return nullptr;
}

// Returns the option named by an argument ("--name", "--name=x", "-d",
// "-dvalue") among the options of a command and, through fallthrough, of
// the commands above it; nullptr when there is none.
const CLI::Option *option_named(const CLI::App *app, const std::string &arg)
{
	std::string name = arg.rfind("--", 0) == 0 ? arg.substr(0, arg.find('=')) : arg.substr(0, 2);
	for (; app != nullptr; app = app->get_fallthrough() ? app->get_parent() : nullptr)
		for (const CLI::Option *option : app->get_options())
			if (option->nonpositional() && option->check_name(name))
				return option;
	return nullptr;
}

// Says whether an option takes a value (flags do not).
bool takes_value(const CLI::Option &option)
{
	return option.get_expected_max() > 0 && option.get_type_size_max() > 0;
}

// Says whether the option is --output (-o).
bool is_output_option(const CLI::Option &option)
{
	return option.check_name("--output");
}

// Returns the command path as typed: "tenant list".
std::string path_words(const std::vector<const CLI::App *> &path)
{
	std::string words;
	for (size_t i = 1; i < path.size(); i++)
		words += (words.empty() ? "" : " ") + path[i]->get_name();
	return words;
}

// Returns names quoted and joined: "a", "b" or "c".
std::string quoted_choice(const std::vector<std::string> &names)
{
	std::string text;
	for (size_t i = 0; i < names.size(); i++)
		text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + ("\"" + names[i] + "\"");
	return text;
}

// Returns word in lowercase.
std::string lowercase(std::string word)
{
	std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
	return word;
}

} // namespace

// Walks the arguments over the command tree.
CommandLine walk_command_line(const CLI::App &app, const std::vector<std::string> &args)
{
	CommandLine line;
	line.path.push_back(&app);
	bool previous_unknown_option = false;
	for (size_t i = 0; i < args.size(); i++) {
		const std::string &arg = args[i];
		if (arg == "--")
			break;
		const CLI::App *current = line.path.back();
		if (arg.size() > 1 && arg[0] == '-') {
			const CLI::Option *option = option_named(current, arg);
			previous_unknown_option = option == nullptr;
			if (option != nullptr && option->check_name("--json"))
				line.json = true;
			if (option == nullptr || !takes_value(*option))
				continue;
			std::string value;
			if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos)
				value = arg.substr(arg.find('=') + 1);
			else if (arg.rfind("--", 0) != 0 && arg.size() > 2)
				value = arg.substr(arg[2] == '=' ? 3 : 2);
			else if (i + 1 < args.size())
				value = args[++i];
			else
				line.missing_value = true;
			if (is_output_option(*option))
				line.json = line.json || value == "json";
			continue;
		}
		bool after_unknown_option = previous_unknown_option;
		previous_unknown_option = false;
		if (commands_of(*current).empty())
			continue; // an argument of the command
		const CLI::App *command = command_named(*current, arg);
		if (command == nullptr) {
			if (line.unknown.empty()) {
				line.unknown = arg;
				line.unknown_option_before = after_unknown_option;
			}
			continue;
		}
		if (line.unknown.empty())
			line.path.push_back(command);
	}
	return line;
}

// Returns the optimal string alignment distance of two words.
size_t edit_distance(const std::string &a, const std::string &b)
{
	std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
	for (size_t i = 0; i <= a.size(); i++)
		d[i][0] = i;
	for (size_t j = 0; j <= b.size(); j++)
		d[0][j] = j;
	for (size_t i = 1; i <= a.size(); i++)
		for (size_t j = 1; j <= b.size(); j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
		}
	return d[a.size()][b.size()];
}

// Returns the names the typed word probably meant. A name is close when at
// most one edit away (two for names longer than four letters), or when it
// starts with the typed word (two letters at least).
std::vector<std::string> suggestions(const std::string &typed, const std::vector<std::string> &candidates)
{
	const std::string word = lowercase(typed);
	std::vector<std::pair<size_t, std::string>> close;
	for (const std::string &name : candidates) {
		size_t distance = edit_distance(word, name);
		bool prefix = word.size() >= 2 && name.rfind(word, 0) == 0;
		if (distance <= (name.size() > 4 ? 2u : 1u) || prefix)
			close.emplace_back(distance, name);
	}
	std::stable_sort(close.begin(), close.end(),
					 [](const auto &a, const auto &b) { return a.first < b.first; });
	std::vector<std::string> names;
	for (size_t i = 0; i < close.size() && i < 3; i++)
		names.push_back(close[i].second);
	return names;
}

// Explains a mistyped command word or a group given no command.
std::optional<Problem> explain_command_error(const CLI::App &app, const CommandLine &line)
{
	const CLI::App &group = *line.path.back();
	const std::vector<const CLI::App *> commands = commands_of(group);
	if (commands.empty() || line.missing_value)
		return std::nullopt;
	std::vector<std::string> names;
	for (const CLI::App *command : commands)
		names.push_back(command->get_name());
	const std::string above = path_words(line.path);
	const std::string prefix = above.empty() ? "" : above + " ";
	Problem problem;
	problem.exit_code = exit_usage;
	if (!line.unknown.empty()) {
		if (line.unknown_option_before)
			return std::nullopt; // the word may be the value of that unknown option
		problem.message = "unknown command \"" + prefix + line.unknown + "\"";
		std::vector<std::string> meant = suggestions(line.unknown, names);
		for (std::string &name : meant)
			name = prefix + name;
		if (!meant.empty()) {
			problem.hint = "did you mean " + quoted_choice(meant) + "?";
		} else {
			std::string list;
			for (const std::string &name : names)
				list += (list.empty() ? "" : ", ") + name;
			problem.hint = "the commands" + (above.empty() ? std::string() : " of \"" + above + "\"") +
						   " are: " + list;
		}
		return problem;
	}
	problem.message = above.empty() ? "a command is needed" : "\"" + above + "\" needs a command";
	size_t width = 0;
	for (const std::string &name : names)
		width = std::max(width, name.size());
	problem.detail = "choose one of:";
	for (const CLI::App *command : commands)
		problem.detail += "\n  " + command->get_name() + std::string(width - command->get_name().size() + 2, ' ') +
						  command->get_description();
	problem.hint = "Run \"" + app.get_name() + (above.empty() ? "" : " " + above) + " COMMAND --help\" for its options.";
	return problem;
}

} // namespace tenantctl
