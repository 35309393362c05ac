# bash completion for the sptfs programs: sptfs, spt, spt-label, spt-domain, spt-run.
# Self-contained (no bash-completion helpers needed); installed once per program name
# under share/bash-completion/completions/, each a copy of this file.

# Words the policy knows (domains, labels), from `spt -l`: on the --policy, --mount or
# --socket given on the command line, else the running daemon; nothing if none answers
# within a second.
_sptfs_policy_names() {  # $1: labels | domains
  local out i where=()
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    case ${COMP_WORDS[i]} in
      --policy|--mount|--socket|-m|-S)
        case ${COMP_WORDS[i]} in -m) where+=(--mount) ;; -S) where+=(--socket) ;;
          *) where+=("${COMP_WORDS[i]}") ;; esac
        where+=("${COMP_WORDS[i+1]}") ;;
    esac
  done
  out=$(timeout 1 spt "${where[@]}" -l 2>/dev/null) || return 0
  case $1 in
    labels) printf '%s\n' "$out" | sed -n '/^Valid Object Labels/,/^Valid domains/{/^Valid/d;s/ .*//;p}' ;;
    domains) printf '%s\n' "$out" | sed -n '/^Valid domains/,${/^Valid/d;s/^[0-9]* *//;p}' ;;
  esac
}

# Sets COMPREPLY for $cur from options ($1), or files/dirs for an option's value.
_sptfs_reply() {  # $1: options  $2: what the previous word wants (none|file|dir|label|domain|level|word)
  local IFS=$'\n'
  case $2 in
    file) COMPREPLY=($(compgen -f -- "$cur")) ;;
    dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
    label) COMPREPLY=($(compgen -W "$(_sptfs_policy_names labels)" -- "$cur")) ;;
    domain) COMPREPLY=($(compgen -W "$(_sptfs_policy_names domains)" -- "$cur")) ;;
    level) COMPREPLY=($(compgen -W $'enforcing\nwarning\ndisabled' -- "$cur")) ;;
    word) COMPREPLY=() ;;
    *)
      if [[ $cur == -* ]]; then
        IFS=$' \t\n'
        COMPREPLY=($(compgen -W "$1" -- "$cur"))
      else
        COMPREPLY=($(compgen -f -- "$cur"))
      fi
      ;;
  esac
}

_sptfs_label() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} want=none
  case $prev in
    -L|--label) want=label ;;
    --mount|--policy|--root) want=dir ;;
    --socket) want=file ;;
    --xattr) want=word ;;
  esac
  _sptfs_reply "-g --get-label -s --set-label -L --label --restore -R --recursive --json --mount
    --socket --policy --root --xattr -h --help --version" $want
}

_sptfs_spt() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} want=none
  case $prev in
    -L|--label|-O|--lookup-object) want=label ;;
    -D|--lookup-domain|-d|--display-policy|-N|--new-dom|-C|--del-dom|--domain) want=domain ;;
    --policy|--root|--check|--mount|--out|-p|--load-policy) want=dir ;;
    -g|--get-label|-s|--set-label|--socket|--svg|--import|--suggest) want=file ;;
    -T|--set-tag) want=word ;;
  esac
  _sptfs_reply "-r --reset -p --load-policy -d --display-policy -D --lookup-domain -O
    --lookup-object -l --list-labels -k --keywords -g --get-label -s --set-label -L --label
    -T --set-tag -N --new-dom -C --del-dom -h --help --policy --root --check --json --mount
    --socket --why --suggest --import --out --ps --graph --domain --svg --version" $want
}

_sptfs_domain() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} want=none i cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in list|set|tags) cmd=${COMP_WORDS[i]} ;; esac
  done
  case $prev in
    -n|--name) want=domain ;;
    -l|--level) want=level ;;
    --mount) want=dir ;;
    --socket) want=file ;;
  esac
  if [[ $want == none && -z $cmd && $cur != -* ]]; then
    COMPREPLY=($(compgen -W "list set tags" -- "$cur"))
    return
  fi
  local opts="--mount --socket -h --help --version"
  [[ $cmd == set ]] && opts="-n --name -a --all -l --level"
  [[ $cmd == list ]] && opts="--json"
  _sptfs_reply "$opts" $want
}

_sptfs_run() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} want=none i
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} == -- ]]; then  # the command and its arguments
      COMPREPLY=($(compgen -c -- "$cur"))
      ((i + 1 < COMP_CWORD)) && COMPREPLY=($(compgen -f -- "$cur"))
      return
    fi
  done
  case $prev in
    -D|--domain) want=domain ;;
    -m|--mount|-C|--cwd) want=dir ;;
    -S|--socket) want=file ;;
    -u|--user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
  esac
  _sptfs_reply "-D --domain -m --mount -S --socket -r --root -P --no-proc -u --user -C --cwd
    -h --help --" $want
}

_sptfs_sptfs() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} want=none
  case $prev in
    --config|--audit-log|--socket) want=file ;;
    --policy) want=dir ;;
    --default-domain) want=domain ;;
    --label-xattr|--timeout|--threads|--max-idle-threads|--poll-us|--fd-budget|-o) want=word ;;
  esac
  if [[ $want == none && $cur != -* ]]; then  # SOURCE, MOUNTPOINT, or a config file
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  _sptfs_reply "--config --policy --default-domain --audit-log --socket --label-xattr
    --timeout --threads --clone-fd --no-clone-fd --max-idle-threads --poll-us --io-uring --fd-budget -f
    --foreground -o -h --help" $want
}

complete -o filenames -F _sptfs_spt spt
complete -o filenames -F _sptfs_label spt-label
complete -o filenames -F _sptfs_domain spt-domain
complete -o filenames -F _sptfs_run spt-run
complete -o filenames -F _sptfs_sptfs sptfs
