// Shell completion scripts generated from the command tree.
#include "completion.hpp"
#include "commands.hpp"

#include <iostream>
#include <sstream>
#include <vector>

namespace tenantctl {

namespace {

// One option as completion offers it: its names and what it is for.
struct OptionEntry {
	std::string name, description;
	bool takes_value = false;
	std::vector<std::string> choices; // the values it accepts, when a fixed set
};

// One command of the tree as completion sees it.
struct CommandEntry {
	std::string path;                                          // "tenant list"; "" for tenantctl itself
	std::vector<std::pair<std::string, std::string>> commands; // subcommands: name, description
	std::vector<OptionEntry> options;                          // its own and those it inherits
};

// Returns the fixed set of values an option accepts (from a CLI::IsMember
// check, whose description is "{a,b,c}"), or nothing.
std::vector<std::string> choices_of(const CLI::Option &option)
{
	std::string type = option.get_type_name();
	size_t open = type.find('{'), close = type.rfind('}');
	std::vector<std::string> choices;
	if (open == std::string::npos || close == std::string::npos || close < open)
		return choices;
	std::istringstream list(type.substr(open + 1, close - open - 1));
	for (std::string choice; std::getline(list, choice, ',');)
		if (!choice.empty())
			choices.push_back(choice);
	return choices;
}

// Returns the options a command accepts: its own, then through fallthrough
// those of the commands above it (a name only once: -h/--help is everywhere).
std::vector<OptionEntry> options_of(const CLI::App &command)
{
	std::vector<OptionEntry> entries;
	auto add = [&entries](OptionEntry entry, const std::string &name) {
		for (const OptionEntry &known : entries)
			if (known.name == name)
				return;
		entry.name = name;
		entries.push_back(entry);
	};
	for (const CLI::App *app = &command; app != nullptr; app = app->get_fallthrough() ? app->get_parent() : nullptr)
		for (const CLI::Option *option : app->get_options()) {
			if (!option->nonpositional())
				continue;
			OptionEntry entry;
			entry.description = option->get_description();
			entry.takes_value = option->get_expected_max() > 0 && option->get_type_size_max() > 0;
			entry.choices = choices_of(*option);
			for (const std::string &name : option->get_snames())
				add(entry, "-" + name);
			for (const std::string &name : option->get_lnames())
				add(entry, "--" + name);
		}
	return entries;
}

// Adds a command and every command under it to the list, depth first.
void collect(const CLI::App &command, const std::string &path, std::vector<CommandEntry> &entries)
{
	CommandEntry entry{path, {}, options_of(command)};
	std::vector<const CLI::App *> children =
		command.get_subcommands([](const CLI::App *child) { return !child->get_name().empty(); });
	for (const CLI::App *child : children)
		entry.commands.emplace_back(child->get_name(), child->get_description());
	entries.push_back(entry);
	for (const CLI::App *child : children)
		collect(*child, path.empty() ? child->get_name() : path + " " + child->get_name(), entries);
}

// Returns text as a single-quoted shell word.
std::string shell_quoted(const std::string &text)
{
	std::string quoted = "'";
	for (char c : text)
		quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
	return quoted + "'";
}

// Returns the words joined by spaces, each through a function.
template <typename Items, typename Word>
std::string joined(const Items &items, Word word)
{
	std::string text;
	for (const auto &item : items)
		text += (text.empty() ? "" : " ") + word(item);
	return text;
}

// Returns the case branches that give the accepted values of the options of
// each command ("path|--option"); inherited options are found by the
// script, which looks at the commands above.
std::string choices_branches(const std::vector<CommandEntry> &tree, const std::string &indent)
{
	std::string branches;
	for (const CommandEntry &command : tree) {
		std::vector<OptionEntry> own;
		for (const OptionEntry &option : command.options)
			if (!option.choices.empty())
				own.push_back(option);
		for (const OptionEntry &option : own) {
			bool inherited = false;
			for (const CommandEntry &above : tree)
				if (above.path.size() < command.path.size() && command.path.rfind(above.path, 0) == 0 &&
					(above.path.empty() || command.path[above.path.size()] == ' '))
					for (const OptionEntry &candidate : above.options)
						inherited = inherited || candidate.name == option.name;
			if (!inherited)
				branches += indent + shell_quoted(command.path + "|" + option.name) + ") reply=(" +
							joined(option.choices, shell_quoted) + ") ;;\n";
		}
	}
	return branches;
}

// Returns the names of the options that take a value.
std::string value_options(const CommandEntry &command)
{
	std::vector<std::string> names;
	for (const OptionEntry &option : command.options)
		if (option.takes_value)
			names.push_back(option.name);
	return joined(names, shell_quoted);
}

} // namespace

// Returns the bash completion script of the application.
std::string bash_completion(const CLI::App &app)
{
	const std::string name = app.get_name();
	std::vector<CommandEntry> tree;
	collect(app, "", tree);
	std::ostringstream script;
	script << "# bash completion for " << name << ", generated by \"" << name
		   << " completion bash\" from its command tree.\n"
		   << "# Load it with: source <(" << name << " completion bash)\n\n"
		   << "# Sets commands, options and takes_value for a command path (\"tenant list\").\n"
		   << "_" << name << "_tree() {\n"
		   << "    commands=() options=() takes_value=()\n"
		   << "    case $1 in\n";
	for (const CommandEntry &command : tree)
		script << "    " << shell_quoted(command.path) << ")\n"
			   << "        commands=(" << joined(command.commands, [](const auto &c) { return shell_quoted(c.first); })
			   << ")\n"
			   << "        options=(" << joined(command.options, [](const auto &o) { return shell_quoted(o.name); })
			   << ")\n"
			   << "        takes_value=(" << value_options(command) << ") ;;\n";
	script << "    esac\n}\n\n"
		   << "# Sets reply to the values an option of a command path accepts, looking\n"
		   << "# at the commands above for options they pass down.\n"
		   << "_" << name << "_choices() {\n"
		   << "    local cmdpath=$1\n"
		   << "    reply=()\n"
		   << "    while :; do\n"
		   << "        case \"$cmdpath|$2\" in\n"
		   << choices_branches(tree, "        ") << "        esac\n"
		   << "        [[ ${#reply[@]} -gt 0 || -z $cmdpath ]] && return\n"
		   << "        if [[ $cmdpath == *' '* ]]; then cmdpath=${cmdpath% *}; else cmdpath=; fi\n"
		   << "    done\n}\n\n"
		   << "# Says whether word is one of the remaining arguments.\n"
		   << "_" << name << "_among() {\n"
		   << "    local word=$1 each\n"
		   << "    shift\n"
		   << "    for each; do [[ $each == \"$word\" ]] && return 0; done\n"
		   << "    return 1\n}\n\n"
		   << "# Completes the word under the cursor: commands, options, option values.\n"
		   << "_" << name << "() {\n"
		   << "    local cur=${COMP_WORDS[COMP_CWORD]} cmdpath= word i\n"
		   << "    local -a commands options takes_value reply\n"
		   << "    COMPREPLY=()\n"
		   << "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
		   << "        word=${COMP_WORDS[i]}\n"
		   << "        [[ $word == -- ]] && return 0\n"
		   << "        _" << name << "_tree \"$cmdpath\"\n"
		   << "        if [[ $word == -* ]]; then\n"
		   << "            if _" << name << "_among \"$word\" \"${takes_value[@]}\"; then\n"
		   << "                if [[ ${COMP_WORDS[i+1]} == = ]]; then ((i += 2)); else ((i += 1)); fi\n"
		   << "            fi\n"
		   << "        elif _" << name << "_among \"$word\" \"${commands[@]}\"; then\n"
		   << "            cmdpath=${cmdpath:+$cmdpath }$word\n"
		   << "        fi\n"
		   << "    done\n"
		   << "    _" << name << "_tree \"$cmdpath\"\n"
		   << "    local prev=${COMP_WORDS[COMP_CWORD-1]}\n"
		   << "    [[ $prev == = && COMP_CWORD -gt 1 ]] && prev=${COMP_WORDS[COMP_CWORD-2]}\n"
		   << "    [[ $cur == = ]] && cur=\n"
		   << "    if ((COMP_CWORD > 1)) && _" << name << "_among \"$prev\" \"${takes_value[@]}\"; then\n"
		   << "        _" << name << "_choices \"$cmdpath\" \"$prev\"\n"
		   << "        COMPREPLY=($(compgen -W \"${reply[*]}\" -- \"$cur\"))\n"
		   << "    elif [[ $cur == -* ]]; then\n"
		   << "        COMPREPLY=($(compgen -W \"${options[*]}\" -- \"$cur\"))\n"
		   << "    else\n"
		   << "        COMPREPLY=($(compgen -W \"${commands[*]}\" -- \"$cur\"))\n"
		   << "    fi\n"
		   << "    return 0\n"
		   << "}\n\n"
		   << "complete -F _" << name << " " << name << "\n";
	return script.str();
}

// Returns the zsh completion script of the application.
std::string zsh_completion(const CLI::App &app)
{
	const std::string name = app.get_name();
	std::vector<CommandEntry> tree;
	collect(app, "", tree);
	auto described = [](const std::string &word, const std::string &description) {
		std::string escaped;
		for (char c : word)
			escaped += c == ':' ? std::string("\\:") : std::string(1, c);
		return shell_quoted(escaped + ":" + description);
	};
	std::ostringstream script;
	script << "#compdef " << name << "\n"
		   << "# zsh completion for " << name << ", generated by \"" << name
		   << " completion zsh\" from its command tree.\n"
		   << "# Install it as _" << name << " in a directory of $fpath, or load it with:\n"
		   << "#   source <(" << name << " completion zsh)   (after compinit)\n\n"
		   << "# Sets commands, options and takes_value for a command path (\"tenant list\").\n"
		   << "_" << name << "_tree() {\n"
		   << "    commands=() options=() takes_value=()\n"
		   << "    case $1 in\n";
	for (const CommandEntry &command : tree)
		script << "    (" << shell_quoted(command.path) << ")\n"
			   << "        commands=(" << joined(command.commands, [&](const auto &c) { return described(c.first, c.second); })
			   << ")\n"
			   << "        options=(" << joined(command.options, [&](const auto &o) { return described(o.name, o.description); })
			   << ")\n"
			   << "        takes_value=(" << value_options(command) << ") ;;\n";
	std::string branches = choices_branches(tree, "        (");
	script << "    esac\n}\n\n"
		   << "# Sets reply to the values an option of a command path accepts, looking\n"
		   << "# at the commands above for options they pass down.\n"
		   << "_" << name << "_choices() {\n"
		   << "    local cmdpath=$1\n"
		   << "    reply=()\n"
		   << "    while :; do\n"
		   << "        case \"$cmdpath|$2\" in\n"
		   << branches << "        esac\n"
		   << "        (( $#reply )) || [[ -z $cmdpath ]] && return\n"
		   << "        if [[ $cmdpath == *' '* ]]; then cmdpath=${cmdpath% *}; else cmdpath=; fi\n"
		   << "    done\n}\n\n"
		   << "# Completes the word under the cursor: commands, options, option values.\n"
		   << "_" << name << "() {\n"
		   << "    local cmdpath= word prev\n"
		   << "    local -a commands options takes_value reply names\n"
		   << "    local -i i\n"
		   << "    for ((i = 2; i < CURRENT; i++)); do\n"
		   << "        word=${words[i]}\n"
		   << "        [[ $word == -- ]] && return 1\n"
		   << "        _" << name << "_tree \"$cmdpath\"\n"
		   << "        if [[ $word == -* ]]; then\n"
		   << "            (( ${takes_value[(Ie)$word]} )) && ((i++))\n"
		   << "            continue\n"
		   << "        fi\n"
		   << "        names=(${commands%%:*})\n"
		   << "        (( ${names[(Ie)$word]} )) && cmdpath=${cmdpath:+$cmdpath }$word\n"
		   << "    done\n"
		   << "    _" << name << "_tree \"$cmdpath\"\n"
		   << "    prev=${words[CURRENT-1]}\n"
		   << "    if (( CURRENT > 2 && ${takes_value[(Ie)$prev]} )); then\n"
		   << "        _" << name << "_choices \"$cmdpath\" \"$prev\"\n"
		   << "        if (( $#reply )); then compadd -a reply; else _message \"value of $prev\"; fi\n"
		   << "    elif [[ $PREFIX == -* ]]; then\n"
		   << "        _describe -t options option options\n"
		   << "    else\n"
		   << "        _describe -t commands command commands\n"
		   << "    fi\n"
		   << "}\n\n"
		   << "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
		   << "    _" << name << " \"$@\"\n"
		   << "else\n"
		   << "    compdef _" << name << " " << name << "\n"
		   << "fi\n";
	return script.str();
}

// Registers completion bash|zsh.
void add_completion_command(CLI::App &app, Invocation &invocation)
{
	CLI::App *completion = app.add_subcommand("completion", "Print a shell completion script (bash or zsh)");
	completion->require_subcommand(1);
	CLI::App *bash = completion->add_subcommand(
		"bash", "Print the bash completion script; load it with: source <(tenantctl completion bash)");
	bash->callback([&invocation, &app] {
		invocation.action = [&app](Session &) { std::cout << bash_completion(app); };
	});
	CLI::App *zsh = completion->add_subcommand(
		"zsh", "Print the zsh completion script; save it as _tenantctl in a directory of $fpath");
	zsh->callback([&invocation, &app] {
		invocation.action = [&app](Session &) { std::cout << zsh_completion(app); };
	});
}

} // namespace tenantctl
