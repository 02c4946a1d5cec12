# Included into llama.cpp's own CMake project when pip builds llama-cpp-python (Makefile:
# CMAKE_ARGS -DCMAKE_PROJECT_llama.cpp_INCLUDE=...). llama-cpp-python forces llama.cpp's
# "common" library on, but its Python package loads only libllama and libggml*: common (the
# CLI tools' argument, chat-template and download code, with cpp-httplib) is installed outside
# the package and never used. Turned off here, after the force and before llama.cpp reads it.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library" FORCE)
