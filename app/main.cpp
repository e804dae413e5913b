#include <iostream>

#include "app/cli.hpp"

int main(int argc, char** argv) { return timely::cli::run(argc, argv, std::cout, std::cerr); }
