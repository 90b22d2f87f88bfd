// borrow_game — a game that borrows a RefCell twice gets a clear BorrowMutError, and the fix.
//
// The game state lives in a RefCell<Game>, so every reader and writer must borrow it, and
// RefCell checks Rust's rule at run time: many readers or one writer, never both at once.
#include <cstddef>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "memkit/base/error.h"
#include "memkit/own/drop.h"
#include "memkit/own/refcell.h"

using memkit::Ref;
using memkit::RefCell;
using memkit::RefMut;

struct Game {
  std::vector<std::string> players;
  std::vector<int> scores;
  std::size_t turn = 0;
};

void print_scores(const RefCell<Game>& game) {
  Ref<Game> g = game.borrow();
  std::cout << "scores:";
  for (std::size_t i = 0; i < g->players.size(); ++i) {
    std::cout << (i == 0 ? " " : ", ") << g->players[i] << " " << g->scores[i];
  }
  std::cout << " (next: " << g->players[g->turn] << ")\n";
}

// Gives the current player a point and passes the turn on: a writer.
void score_and_pass(const RefCell<Game>& game) {
  RefMut<Game> g = game.borrow_mut();
  g->scores[g->turn] += 1;
  g->turn = (g->turn + 1) % g->players.size();
}

// BUG: `current` keeps the game borrowed for reading across the call that writes to it. With a
// plain Game& this compiles and seems to work, until the writer reallocates `players` and
// `player` dangles. RefCell refuses the overlap where it happens, and says where each side began.
void play_turn_buggy(const RefCell<Game>& game) {
  Ref<Game> current = game.borrow();
  const std::string& player = current->players[current->turn];
  std::cout << player << " scores\n";
  score_and_pass(game);  // throws BorrowMutError: `current` is still reading
  std::cout << "never printed\n";
}

// FIXED: copy what is needed out of the game, and end the shared borrow before writing. (Ending
// `current`'s scope with a closing brace would do the same.)
void play_turn(const RefCell<Game>& game) {
  Ref<Game> current = game.borrow();
  std::string player = current->players[current->turn];  // a copy, not a reference into the game
  memkit::drop(std::move(current));                      // the shared borrow ends here
  score_and_pass(game);
  std::cout << player << " scores and passes the turn\n";
}

std::string_view first_line(std::string_view text) { return text.substr(0, text.find('\n')); }

// try_borrow_mut() returns a Result instead of throwing, for code that can wait or skip.
void give_bonus(const RefCell<Game>& game, std::size_t player) {
  if (auto edit = game.try_borrow_mut()) {
    (*edit)->scores[player] += 5;
    std::cout << "bonus granted to " << (*edit)->players[player] << "\n";
  } else {
    std::cout << "bonus refused: " << first_line(edit.error().what()) << "\n";
  }
}

int main() {
  RefCell<Game> game{Game{{"Ana", "Ben", "Cleo"}, {0, 0, 0}, 0}};
  print_scores(game);

  std::cout << "\n== the bug: reading while writing ==\n";
  try {
    play_turn_buggy(game);
  } catch (const memkit::BorrowMutError& e) {
    std::cout << "caught memkit::BorrowMutError:\n" << e.what() << "\n";
  }
  // Unwinding destroyed the `current` guard, so the game is unborrowed and unchanged.
  std::cout << "after unwinding, game.is_borrowed() = " << std::boolalpha << game.is_borrowed()
            << "\n";
  print_scores(game);

  std::cout << "\n== the fix: the shared borrow ends before the mutable one ==\n";
  play_turn(game);
  play_turn(game);
  print_scores(game);

  std::cout << "\n== without exceptions: try_borrow_mut() ==\n";
  {
    Ref<Game> scoreboard = game.borrow();  // the scoreboard is on screen, reading the game
    give_bonus(game, 2);
  }
  give_bonus(game, 2);  // the scoreboard closed: nothing else is borrowing
  print_scores(game);
  return 0;
}
